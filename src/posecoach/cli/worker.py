"""`posecoach worker`: take jobs from the Redis queue (``POSECOACH_REDIS_URL``) and run them, next to any
number of other workers on any machines; `posecoach serve` then only accepts uploads and enqueues jobs."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from posecoach.errors import InputError


def worker(
    threads: Annotated[int | None, typer.Option(min=1, help="Jobs run at once by this process "
                                                "(default: POSECOACH_JOB_WORKERS).")] = None,
) -> None:
    """Run queued jobs from Redis (needs POSECOACH_REDIS_URL and the same database and storage as serve)."""
    from posecoach.cli.serve import _database, out
    from posecoach.service.queue import run_worker

    settings, db = _database()
    db.close()
    if not settings.redis_url:
        raise InputError("set POSECOACH_REDIS_URL (e.g. redis://127.0.0.1:6379/0): a worker takes its jobs "
                         "from the Redis queue; without it `posecoach serve` runs the jobs itself")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    n = threads or settings.job_workers
    out.print(f"PoseCoach worker: {n} job(s) at once from {settings.redis_url} "
              f"(queue namespace {settings.redis_namespace}); stop with Ctrl-C or SIGTERM")
    try:
        run_worker(settings, n, stop)
    except Exception as exc:
        raise InputError(f"the worker stopped: {type(exc).__name__}: {exc}") from None


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
