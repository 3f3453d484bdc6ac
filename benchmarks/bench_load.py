"""Bounded load run of the service (issue 25): many API clients, live camera sessions and one hostile client at
once against one `posecoach serve` on loopback (SQLite, local storage, in-process jobs).

    .venv/bin/python benchmarks/bench_load.py [--clients 32] [--requests 20] [--users 4] [--live 8]
                                              [--live-frames 60] [--memory-bound-mb 1500]

1. Setup: ``--users`` accounts (made by the admin through ``POST /v1/users``); each uploads the clip and has it
   analysed (one job each), so every client has a video, a job and a report to read.
2. Load, all at once:
   * ``--clients`` API clients (spread over the users), each making ``--requests`` requests in turn: upload the
     clip, poll its user's job, download a byte range of its user's video (``Range``: 206), fetch the report,
     list the videos;
   * ``--live`` live sessions (``/v1/live``, mode exercise, spread over the users) each sending
     ``--live-frames`` real 640x360 JPEG frames of the clip at up to 15 frames/s, one frame in flight;
   * one hostile client on the live socket sending frames whose JPEG header says 16000x16000 (a few bytes each,
     which would take 768 MB to decode) until the server closes the socket.
3. Measured: errors (any answer other than the expected 2xx / frame answer), latency percentiles per request
   kind and per live frame, the hostile client's refusals and close code, and the API process's peak resident
   memory (``VmHWM`` of its ``/proc`` entry; the analysis jobs run in child processes and are not in it), which
   must stay under ``--memory-bound-mb``. Exit status 1 when any error occurs or the bound is passed.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import httpx2 as httpx
import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bench_service import CLIP, VIDEO, _env, start_server, wait_job
from clips import data_dir, header, table
from posecoach.io import VideoReader

HOSTILE_SIDE = 16000


def jpeg_frames(clip: Path, n: int, size: tuple[int, int] = (640, 360)) -> list[bytes]:
    """The first ``n`` frames of the clip as JPEG bytes of ``size``."""
    out = []
    with VideoReader(clip) as reader:
        for frame in reader.frames(0, n):
            image = cv2.cvtColor(cv2.resize(frame.image, size), cv2.COLOR_RGB2BGR)
            ok, jpeg = cv2.imencode(".jpg", image)
            if ok:
                out.append(jpeg.tobytes())
    return out


def claims_huge(jpeg: bytes, side: int = HOSTILE_SIDE) -> bytes:
    """``jpeg`` with its frame header (SOF0) saying ``side`` x ``side`` pixels: a few kB that a decoder would
    expand to side * side * 3 bytes."""
    data = bytearray(jpeg)
    at = data.find(b"\xff\xc0")
    if at < 0:
        raise ValueError("no baseline frame header in the JPEG")
    data[at + 5: at + 9] = struct.pack(">HH", side, side)
    return bytes(data)


class Recorder:
    """Latencies per kind and errors, from many threads."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self._lock:
            self.times.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")

    def rows(self) -> list[list[Any]]:
        out = []
        for kind, values in self.times.items():
            ms = np.asarray(values) * 1000
            out.append([kind, len(values), f"{np.percentile(ms, 50):.0f}", f"{np.percentile(ms, 95):.0f}",
                        f"{ms.max():.0f}"])
        return out


def make_users(base: str, admin_key: str, n: int, clip: bytes) -> list[dict[str, str]]:
    """``n`` users, each with the clip uploaded and analysed: ``{"key", "video", "job"}``."""
    users = []
    with httpx.Client(base_url=base, headers={"X-API-Key": admin_key}, timeout=120) as admin:
        for i in range(n):
            made = admin.post("/v1/users", json={"name": f"load{i}"})
            made.raise_for_status()
            users.append({"key": made.json()["api_key"]})
    for user in users:
        with httpx.Client(base_url=base, headers={"X-API-Key": user["key"]}, timeout=120) as http:
            video = http.post("/v1/videos", params={"filename": "load.mp4"}, content=clip, headers=VIDEO)
            video.raise_for_status()
            job = http.post("/v1/jobs", json={"video_id": video.json()["id"]})
            job.raise_for_status()
            user.update(video=video.json()["id"], job=job.json()["id"])
    for user in users:
        with httpx.Client(base_url=base, headers={"X-API-Key": user["key"]}, timeout=120) as http:
            if wait_job(http, user["job"])["state"] != "done":
                raise SystemExit(f"setup: the analysis of user {user} did not finish")
    return users


def api_client(base: str, user: dict[str, str], clip: bytes, requests: int, rec: Recorder) -> None:
    """One client's ``requests`` requests, cycling through the five kinds."""
    kinds: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("upload", "POST", "/v1/videos", {"params": {"filename": "load.mp4"}, "content": clip, "headers": VIDEO},
         201),
        ("job status", "GET", f"/v1/jobs/{user['job']}", {}, 200),
        ("range download", "GET", f"/v1/videos/{user['video']}/file", {"headers": {"Range": "bytes=0-65535"}},
         206),
        ("report", "GET", f"/v1/jobs/{user['job']}/report", {}, 200),
        ("list videos", "GET", "/v1/videos", {}, 200),
    ]
    with httpx.Client(base_url=base, headers={"X-API-Key": user["key"]}, timeout=120) as http:
        for i in range(requests):
            kind, method, url, kw, expected = kinds[i % len(kinds)]
            t0 = time.perf_counter()
            try:
                answer = http.request(method, url, **kw)
                error = None if answer.status_code == expected else f"{answer.status_code} {answer.text[:80]}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            rec.add(kind, time.perf_counter() - t0, error)


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/v1/live?mode=exercise&exercise=auto&width=640&height=360"


def live_session(base: str, key: str, frames: list[bytes], rec: Recorder, fps: float = 15.0) -> None:
    """Send the frames one at a time (one in flight) at up to ``fps``; each answer must be a frame."""
    try:
        with connect(_ws_url(base), additional_headers={"X-API-Key": key}, open_timeout=60) as ws:
            ready = json.loads(ws.recv(timeout=60))
            if ready.get("type") != "ready":
                rec.add("live frame", 0.0, f"not ready: {ready}")
                return
            for i, jpeg in enumerate(frames):
                t0 = time.perf_counter()
                ws.send(struct.pack("<d", float(i)) + jpeg)
                answer = json.loads(ws.recv(timeout=120))
                took = time.perf_counter() - t0
                ok = answer.get("type") == "frame" and answer.get("t") == float(i)
                rec.add("live frame", took, None if ok else f"answer {str(answer)[:80]}")
                time.sleep(max(0.0, 1.0 / fps - took))
            ws.send(json.dumps({"type": "finish"}))
            summary = json.loads(ws.recv(timeout=120))
            rec.add("live summary", 0.0, None if summary.get("type") == "summary" else f"{summary}"[:80])
    except Exception as exc:  # any failure of a session is an error of the run
        rec.add("live frame", 0.0, f"{type(exc).__name__}: {exc}"[:120])


def hostile(base: str, key: str, frame: bytes, limit: int = 500) -> dict[str, Any]:
    """Oversized-header frames until the server closes the socket: how many were refused, the close code."""
    refused = answers = 0
    with connect(_ws_url(base), additional_headers={"X-API-Key": key}, open_timeout=60) as ws:
        try:
            json.loads(ws.recv(timeout=60))
            for i in range(limit):
                ws.send(struct.pack("<d", float(i)) + frame)
                answer = json.loads(ws.recv(timeout=60))
                answers += 1
                refused += answer.get("type") == "error"
        except ConnectionClosed:  # the server ends the attack
            pass
    return {"sent_answered": answers, "refused": refused, "close_code": ws.close_code}


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (``VmHWM``), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="Requests per API client.")
    parser.add_argument("--users", type=int, default=4, help="Accounts the clients and live sessions share.")
    parser.add_argument("--live", type=int, default=8, help="Live camera sessions during the load.")
    parser.add_argument("--live-frames", type=int, default=60, help="Frames each live session sends.")
    parser.add_argument("--memory-bound-mb", type=float, default=1500.0,
                        help="The API process's peak resident memory must stay under this.")
    args = parser.parse_args()
    clip_path = data_dir() / CLIP
    clip = clip_path.read_bytes()
    frames = jpeg_frames(clip_path, args.live_frames)
    attack = claims_huge(frames[0])
    rec = Recorder()
    with tempfile.TemporaryDirectory() as folder:
        env = _env(Path(folder), 50.0, None)
        server, base, admin_key = start_server(Path(folder), env)
        try:
            print("setup: users, uploads, analyses", file=sys.stderr)
            users = make_users(base, admin_key, args.users + 1, clip)
            attacker, users = users[-1], users[:-1]
            print("load", file=sys.stderr)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients + args.live + 1) as pool:
                bad = pool.submit(hostile, base, attacker["key"], attack)
                live = [pool.submit(live_session, base, users[i % len(users)]["key"], frames, rec)
                        for i in range(args.live)]
                api = [pool.submit(api_client, base, users[i % len(users)], clip, args.requests, rec)
                       for i in range(args.clients)]
                for f in [*api, *live]:
                    f.result()
                attack_result = bad.result()
            wall = time.perf_counter() - t0
            alive = httpx.get(f"{base}/ready").status_code == 200
            peak = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(60)
    print(header())
    print(f"\nLoad on loopback: {args.clients} API clients x {args.requests} requests over {args.users} users, "
          f"{args.live} live sessions x {len(frames)} frames (640x360 JPEG, up to 15/s), one hostile live client "
          f"({HOSTILE_SIDE}x{HOSTILE_SIDE} headers); wall {wall:.1f} s; server ready afterwards: {alive}\n")
    print(table(["request", "count", "p50 ms", "p95 ms", "max ms"], rec.rows()))
    print(f"\nErrors: {len(rec.errors)}" + "".join(f"\n  {e}" for e in rec.errors[:20]))
    print(f"Hostile client: {attack_result['refused']} frames refused of {attack_result['sent_answered']} answered, "
          f"socket closed with code {attack_result['close_code']}")
    within = peak < args.memory_bound_mb
    print(f"API process peak resident memory: {peak:.0f} MiB (bound {args.memory_bound_mb:.0f} MiB: "
          f"{'held' if within else 'PASSED'})")
    return 0 if (within and not rec.errors and alive) else 1


if __name__ == "__main__":
    sys.exit(main())
