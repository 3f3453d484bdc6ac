"""Live coaching throughput: a real clip's frames as JPEGs over the /v1/live WebSocket, as fast as the server
answers with two frames in flight (what the web app's client does), for each pose model.

    .venv/bin/python benchmarks/bench_live.py [--clip PATH] [--seconds 20] [--models lite,full]

Prints one row per pose model: frames/s answered, end-to-end latency (send -> answer) median and p95, the
server's own time per frame (JPEG decode + pose + analysis), and the live rep count at the end. No browser:
the browser test (tests/web/test_live.py) measures the page itself, with the camera capped at 30 frames/s.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import uvicorn
from websockets.sync.client import connect

from posecoach.io import VideoReader
from posecoach.service import Settings, create_app
from posecoach.service.db import Database

sys.path.insert(0, str(Path(__file__).parent))
from clips import data_dir, header, table


def frames_as_jpeg(clip: Path, seconds: float, size: tuple[int, int] = (640, 480)) -> list[bytes]:
    """The clip's first ``seconds``, letterboxed into 640x480, as JPEG (quality 70, like the browser's)."""
    out = []
    w, h = size
    with VideoReader(clip) as reader:
        scale = min(w / reader.info.width, h / reader.info.height)
        sw, sh = int(reader.info.width * scale), int(reader.info.height * scale)
        for frame in reader.frames(0, round(seconds * reader.info.fps)):
            canvas = np.zeros((h, w, 3), np.uint8)
            y0, x0 = (h - sh) // 2, (w - sw) // 2
            canvas[y0:y0 + sh, x0:x0 + sw] = cv2.resize(frame.image, (sw, sh), interpolation=cv2.INTER_AREA)
            _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
            out.append(jpeg.tobytes())
    return out


def serve(data: Path) -> tuple[str, str, uvicorn.Server]:
    settings = Settings(data_dir=data, job_executor="thread")
    db = Database(settings.resolved_database_url())
    db.migrate()
    _, key = db.create_user("bench", "user")
    db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"ws://127.0.0.1:{port}/v1/live", key, server


def run(url: str, key: str, model: str, exercise: str, jpegs: list[bytes]) -> dict[str, float]:
    latencies, server_ms, count = [], [], 0
    with connect(f"{url}?exercise={exercise}&pose_model={model}", additional_headers={"X-API-Key": key},
                 max_size=None) as ws:
        assert json.loads(ws.recv())["type"] == "ready"
        sent: dict[float, float] = {}
        start = time.perf_counter()
        nxt = 0

        def send() -> None:
            nonlocal nxt
            t = float(nxt)
            sent[t] = time.perf_counter()
            ws.send(struct.pack("<d", t) + jpegs[nxt])
            nxt += 1

        for _ in range(min(2, len(jpegs))):
            send()
        for _ in range(len(jpegs)):
            msg = json.loads(ws.recv())
            latencies.append((time.perf_counter() - sent.pop(msg["t"])) * 1000.0)
            server_ms.append(msg["server_ms"])
            count = msg.get("count", count)
            if nxt < len(jpegs):
                send()
        wall = time.perf_counter() - start
    lat = sorted(latencies)
    return {"fps": len(jpegs) / wall, "latency_ms": statistics.median(lat), "latency_p95_ms": lat[int(0.95 * len(lat))],
            "server_ms": statistics.median(server_ms), "count": count}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, default=data_dir() / "misc_exercise_clips" / "rjsong" / "squat.mp4")
    ap.add_argument("--exercise", default="squat")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--models", default="lite,full")
    args = ap.parse_args()
    jpegs = frames_as_jpeg(args.clip, args.seconds)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url, key, server = serve(Path(tmp))
        for model in args.models.split(","):
            r = run(url, key, model, args.exercise, jpegs)
            rows.append([model, len(jpegs), f"{r['fps']:.1f}", f"{r['latency_ms']:.0f}", f"{r['latency_p95_ms']:.0f}",
                         f"{r['server_ms']:.1f}", r["count"]])
        server.should_exit = True
    print(header())
    print(f"clip: {args.clip.name}, first {args.seconds:g} s, 640x480 JPEG q70, exercise {args.exercise}, "
          "2 frames in flight, loopback\n")
    print(table(["pose model", "frames", "frames/s", "latency ms (median)", "latency ms (p95)", "server ms/frame",
                 "live count"], rows))


if __name__ == "__main__":
    main()
