"""Live coaching throughput: a real clip's frames as JPEGs over the /v1/live WebSocket, as fast as the server
answers with two frames in flight (what the web app's client does), for each pose model; and the live counter's
own cost per frame.

    .venv/bin/python benchmarks/bench_live.py [--clip PATH] [--seconds 20] [--models lite,full]
                                              [--repeat 5] [--coach-only | --no-coach] [--guide CLIP]

First table, one row per pose model: frames/s answered, end-to-end latency (send -> answer) median and p95, the
server's own time per frame (JPEG decode + pose + analysis), and the live rep count at the end (the count shown
and the estimate). With ``--guide CLIP``, the same frames also in mode ``guide``, following a guide made from
CLIP (each repetition scored against it when it ends: `posecoach.analysis.compare.streaming`): one more row per
pose model, with the repetitions scored. No browser: the browser tests (tests/e2e/test_live.py,
test_session_page.py) measure the pages themselves, with the camera capped at 30 frames/s.

Second table, the live counter alone: the same frames' poses (estimated once, as the server does, with the first
pose model), fed to `LiveCoach.update` frame by frame with the exercise named and unknown ("auto": recognition
every 2 s and a recount when the exercise changes), for the clip once and looped ``--repeat`` times (a longer
session); ms per frame mean, p95 and max, the mean over the session's last 10 s, the final estimate, the count
shown and the number of corrections shown.
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

from posecoach.analysis.compare import Guide
from posecoach.analysis.live import LiveCoach
from posecoach.io import VideoReader
from posecoach.pose.engine import estimate_poses
from posecoach.service import Settings, create_app, library_db
from posecoach.service.db import Database
from posecoach.service.migrations import upgrade
from posecoach.service.storage import open_storage

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


def serve(data: Path, guide_clip: Path | None = None) -> tuple[str, str, uvicorn.Server, str | None]:
    """The service on loopback with one user; with ``guide_clip``, a ready guide of theirs made from it (its id)."""
    # the server's own speed is measured: its frame-rate cap (POSECOACH_LIVE_MAX_FPS) is lifted
    settings = Settings(data_dir=data, job_executor="thread", live_max_fps=1000)
    db = Database(settings.resolved_database_url())
    upgrade(db.engine)
    user, key = db.create_user("bench", "user")
    guide_id = None
    if guide_clip is not None:
        seq = estimate_poses(guide_clip, model="lite")
        storage = open_storage(settings)
        storage_key = storage.new_key("references", ".npz")
        storage.write_file(storage_key, seq.save(data / "guide.npz"))
        guide_id = library_db.add_ready_guide(db, user.id, Guide(name="bench-guide", reps=1).model_dump_json(),
                                              storage_key, seq.num_frames, seq.duration)
    db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"ws://127.0.0.1:{port}/v1/live", key, server, guide_id


Frame = tuple[np.ndarray | None, np.ndarray | None, float]


def poses_of(jpegs: list[bytes], model: str, fps: float) -> list[Frame]:
    """(landmarks, world, t) of every JPEG frame, as the live server computes them (decode, one person, video
    mode), for the counter alone."""
    from posecoach.pose.landmarker import MediaPipeBackend

    out: list[Frame] = []
    with MediaPipeBackend(model, max_people=1, video=True) as backend:
        for i, jpeg in enumerate(jpegs):
            rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            t = i / fps
            poses = backend(rgb, t)
            out.append((poses.landmarks[0] if len(poses) else None, poses.world[0] if len(poses) else None, t))
    return out


def coach_cost(frames: list[Frame], exercise: str, repeat: int, fps: float) -> dict[str, float]:
    """`LiveCoach.update`'s wall time per frame over ``frames`` played ``repeat`` times in a row."""
    coach = LiveCoach(exercise, width=640, height=480)
    ms = []
    span = len(frames) / fps
    state = None
    for r in range(repeat):
        for lm, world, t in frames:
            started = time.perf_counter()
            state = coach.update(lm, world, t + r * span)
            ms.append((time.perf_counter() - started) * 1000.0)
    assert state is not None
    a = np.asarray(ms)
    return {"frames": len(a), "seconds": len(a) / fps, "mean": float(a.mean()), "p95": float(np.percentile(a, 95)),
            "max": float(a.max()), "last10": float(a[-round(10 * fps):].mean()), "count": state.count,
            "shown": state.shown, "corrections": len(state.corrections)}


def coach_table(frames: list[Frame], exercise: str, repeat: int, fps: float) -> list[list[object]]:
    rows: list[list[object]] = []
    for name in (exercise, "auto"):
        for n in sorted({1, repeat}):
            r = coach_cost(frames, name, n, fps)
            rows.append([name, f"{r['seconds']:.0f} s ({r['frames']})", f"{r['mean']:.2f}", f"{r['p95']:.2f}",
                         f"{r['max']:.1f}", f"{r['last10']:.2f}", r["count"], r["shown"], r["corrections"]])
    return rows


def run(url: str, key: str, model: str, exercise: str, jpegs: list[bytes], guide: str | None = None
        ) -> dict[str, float]:
    latencies, server_ms, count, shown, scored = [], [], 0, 0, 0
    mode = f"&mode=guide&guide={guide}" if guide else ""
    with connect(f"{url}?exercise={exercise}&pose_model={model}{mode}", additional_headers={"X-API-Key": key},
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
            if "server_ms" not in msg:
                raise RuntimeError(f"the server answered {msg}")
            server_ms.append(msg["server_ms"])
            count, shown = msg.get("count", count), msg.get("shown", shown)
            scored = len(msg.get("scored", ())) or scored
            if nxt < len(jpegs):
                send()
        wall = time.perf_counter() - start
    lat = sorted(latencies)
    return {"fps": len(jpegs) / wall, "latency_ms": statistics.median(lat), "latency_p95_ms": lat[int(0.95 * len(lat))],
            "server_ms": statistics.median(server_ms), "count": count, "shown": shown, "scored": scored}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, default=data_dir() / "misc_exercise_clips" / "rjsong" / "squat.mp4")
    ap.add_argument("--exercise", default="squat")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--models", default="lite,full")
    ap.add_argument("--repeat", type=int, default=5, help="the clip looped this many times: a longer session for "
                    "the counter's cost (default 5)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--coach-only", action="store_true", help="only the live counter's cost (no WebSocket)")
    only.add_argument("--no-coach", action="store_true", help="only the WebSocket throughput")
    ap.add_argument("--guide", type=Path, help="also follow a guide made from this clip (mode guide)")
    args = ap.parse_args()
    jpegs = frames_as_jpeg(args.clip, args.seconds)
    models = args.models.split(",")
    print(header())
    if not args.coach_only:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            url, key, server, guide_id = serve(Path(tmp), args.guide)
            for model in models:
                for guide in (None, guide_id) if guide_id else (None,):
                    r = run(url, key, model, args.exercise, jpegs, guide)
                    rows.append([model + (" (guide)" if guide else ""), len(jpegs), f"{r['fps']:.1f}",
                                 f"{r['latency_ms']:.0f}", f"{r['latency_p95_ms']:.0f}", f"{r['server_ms']:.1f}",
                                 f"{r['shown']} ({r['count']})", r["scored"] if guide else "–"])
            server.should_exit = True
        print(f"clip: {args.clip.name}, first {args.seconds:g} s, 640x480 JPEG q70, exercise {args.exercise}, "
              "2 frames in flight, loopback\n")
        print(table(["pose model", "frames", "frames/s", "latency ms (median)", "latency ms (p95)",
                     "server ms/frame", "live count shown (estimate)", "repetitions scored"], rows))
    if not args.no_coach:
        fps = 30.0
        with VideoReader(args.clip) as reader:
            fps = reader.info.fps or fps
        frames = poses_of(jpegs, models[0], fps)
        print(f"\nlive counter alone (LiveCoach.update per frame; poses by {models[0]}, computed beforehand): "
              f"{args.clip.name}, first {args.seconds:g} s, once and looped {args.repeat} times\n")
        print(table(["exercise", "session (frames)", "ms/frame mean", "ms/frame p95", "ms/frame max",
                     "ms/frame mean, last 10 s", "count", "shown", "corrections"],
                    coach_table(frames, args.exercise, args.repeat, fps)))


if __name__ == "__main__":
    main()
