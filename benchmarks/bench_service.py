"""Service benchmark: `posecoach serve` alone (SQLite, local storage, in-process jobs) on loopback; with
``--redis URL``, `serve` only enqueues and ``--workers`` `posecoach worker` processes run the jobs.

    .venv/bin/python benchmarks/bench_service.py [--clients 16] [--rounds 10] [--polls 5] [--limit-s 300]
                                                 [--redis redis://127.0.0.1:6379/0 --workers 2]

1. End to end: a real clip uploaded, analysed by a job, its report fetched (times per step).
2. Bad uploads: non-video, empty, image, random bytes, a real clip cut at several points, one over the size
   limit; each must get a 4xx, or (a cut clip that still decodes) a job that ends done or failed with a reason;
   the server must stay up.
3. Load: ``--clients`` threads, each doing ``--rounds`` of (upload the clip, poll a job ``--polls`` times,
   list videos), bounded by ``--limit-s``; every answer that is not 2xx counts as an error. Prints the
   latency percentiles per request kind.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np

from clips import data_dir, header, table

CLIP = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"
VIDEO = {"Content-Type": "video/mp4"}  # uploads need a video content type


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(folder: Path, max_upload_mb: float, redis: str | None) -> dict[str, str]:
    env = {**os.environ, "POSECOACH_DATA_DIR": str(folder), "POSECOACH_MAX_UPLOAD_MB": str(max_upload_mb)}
    env.pop("POSECOACH_DATABASE_URL", None)
    env.pop("POSECOACH_REDIS_URL", None)
    if redis:  # a namespace of its own: no other deployment's jobs
        env.update(POSECOACH_REDIS_URL=redis, POSECOACH_REDIS_NAMESPACE=f"posecoach-bench-{os.getpid()}")
    return env


def start_workers(folder: Path, env: dict[str, str], n: int) -> list[subprocess.Popen[str]]:
    """``n`` `posecoach worker` processes (one job at a time each), logging to files in ``folder``."""
    workers = []
    for i in range(n):
        with (folder / f"worker{i}.log").open("w") as out:
            workers.append(subprocess.Popen([sys.executable, "-m", "posecoach", "worker", "--threads", "1"],
                                            env=env, stdout=out, stderr=subprocess.STDOUT, text=True))
    return workers


def _forget_queue(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)
    client.close()


def start_server(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    port = _free_port()
    made = subprocess.run([sys.executable, "-m", "posecoach", "users", "add", f"admin{port}", "--role", "admin",
                           "--no-password", "--key"], env=env, capture_output=True, text=True, check=True)
    key = made.stdout.strip().splitlines()[-1]  # the admin's key, printed once by the command that made it
    log = folder / "server.log"  # a file, not a pipe: a full pipe would block the server's access log
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "posecoach", "serve", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/ready").status_code == 200:
                return server, base, key
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not become ready")


def wait_job(http: httpx.Client, job_id: str, timeout: float = 600) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise SystemExit(f"job {job_id} did not finish in {timeout} s")


def end_to_end(http: httpx.Client, clip: Path) -> tuple[list[list[Any]], str]:
    t0 = time.perf_counter()
    video = http.post("/v1/videos", params={"filename": clip.name}, content=clip.read_bytes(),
                      headers=VIDEO).json()
    t1 = time.perf_counter()
    job = http.post("/v1/jobs", json={"video_id": video["id"]}).json()
    job = wait_job(http, job["id"])
    t2 = time.perf_counter()
    report = http.get(f"/v1/jobs/{job['id']}/report").json()
    t3 = time.perf_counter()
    row = [clip.name, video["num_frames"], f"{(t1 - t0) * 1000:.0f}", f"{t2 - t1:.2f}", f"{(t3 - t2) * 1000:.0f}",
           job["state"], report["exercise"]["name"], report["reps"]["count"]]
    return [row], job["id"]


def bad_uploads(http: httpx.Client, clip: bytes, limit_bytes: int) -> list[list[Any]]:
    rng = np.random.default_rng(0)
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    cases: dict[str, bytes] = {"text": b"not a video\n" * 200, "empty": b"", "png image": png,
                               "random bytes": rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes(),
                               "over the size limit": clip * (limit_bytes // len(clip) + 1)}
    for share in (0.01, 0.1, 0.5, 0.9):
        cases[f"clip cut at {share:.0%}"] = clip[: int(len(clip) * share)]
    flipped = bytearray(clip)
    flipped[len(clip) // 3: len(clip) // 3 + 5000] = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    cases["clip with 5 kB garbled"] = bytes(flipped)
    rows = []
    for name, data in cases.items():
        print(f"bad upload: {name}", file=sys.stderr)
        answer = http.post("/v1/videos", params={"filename": "bad.mp4"}, content=data, headers=VIDEO)
        outcome, reason = str(answer.status_code), answer.json().get("detail", "")
        if answer.status_code == 201:
            job = wait_job(http, http.post("/v1/jobs", json={"video_id": answer.json()["id"]}).json()["id"])
            outcome, reason = f"201, job {job['state']}", job["error"] or "-"
        rows.append([name, len(data), outcome, str(reason)[:70]])
    return rows


def load(base: str, key: str, clip: bytes, job_id: str, clients: int, rounds: int, polls: int,
         limit_s: float) -> tuple[list[list[Any]], list[list[Any]]]:
    stop = time.monotonic() + limit_s
    times: dict[str, list[float]] = {"upload": [], "job status": [], "list videos": []}
    errors: list[str] = []

    def one(kind: str, http: httpx.Client, method: str, url: str, **kw: Any) -> None:
        t0 = time.perf_counter()
        try:
            answer = http.request(method, url, **kw)
            if answer.status_code >= 300:
                errors.append(f"{kind}: {answer.status_code}")
        except httpx.HTTPError as exc:
            errors.append(f"{kind}: {type(exc).__name__}")
        times[kind].append(time.perf_counter() - t0)

    def client(_: int) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
            for _ in range(rounds):
                if time.monotonic() > stop:
                    return
                one("upload", http, "POST", "/v1/videos", params={"filename": "load.mp4"}, content=clip,
                    headers=VIDEO)
                for _ in range(polls):
                    one("job status", http, "GET", f"/v1/jobs/{job_id}")
                one("list videos", http, "GET", "/v1/videos")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - t0
    rows = []
    for kind, values in times.items():
        ms = np.asarray(values) * 1000
        rows.append([kind, len(values), f"{np.percentile(ms, 50):.0f}", f"{np.percentile(ms, 95):.0f}",
                     f"{ms.max():.0f}"])
    n = sum(len(v) for v in times.values())
    total = [[clients, n, len(errors), f"{wall:.1f}", f"{n / wall:.0f}",
              f"{np.percentile(np.concatenate([np.asarray(v) for v in times.values()]) * 1000, 95):.0f}"]]
    return rows, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--polls", type=int, default=5)
    parser.add_argument("--limit-s", type=float, default=300.0, help="Stop the load after this many seconds.")
    parser.add_argument("--redis", help="Redis URL: jobs go through the queue to `posecoach worker` processes.")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes with --redis.")
    args = parser.parse_args()
    clip = data_dir() / CLIP
    data = clip.read_bytes()
    limit_mb = 2.0
    with tempfile.TemporaryDirectory() as folder:
        env = _env(Path(folder), limit_mb, args.redis)
        server, base, key = start_server(Path(folder), env)
        workers = start_workers(Path(folder), env, args.workers) if args.redis else []
        try:
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as http:
                print("end to end", file=sys.stderr)
                e2e, job_id = end_to_end(http, clip)
                bad = bad_uploads(http, data, int(limit_mb * 2**20))
            print("load", file=sys.stderr)
            per_kind, total = load(base, key, data, job_id, args.clients, args.rounds, args.polls, args.limit_s)
            alive = httpx.get(f"{base}/ready").status_code == 200
        finally:
            for proc in [server, *workers]:
                proc.terminate()
            for proc in [server, *workers]:
                proc.wait(60)
            if args.redis:
                _forget_queue(args.redis, env["POSECOACH_REDIS_NAMESPACE"])
    print(header())
    mode = f"serve + {args.workers} workers on Redis" if args.redis else "serve alone (in-process jobs)"
    print(f"\nMode: {mode}")
    print("\nEnd to end (upload, analysis job, report):\n")
    print(table(["clip", "frames", "upload ms", "job s", "report ms", "state", "exercise", "reps"], e2e))
    print("\nBad uploads:\n")
    print(table(["upload", "bytes", "answer", "reason"], bad, "lrll"))
    print(f"\nLoad on loopback (server ready afterwards: {alive}):\n")
    print(table(["clients", "requests", "errors", "wall s", "req/s", "p95 ms"], total))
    print()
    print(table(["request", "count", "p50 ms", "p95 ms", "max ms"], per_kind))


if __name__ == "__main__":
    main()
