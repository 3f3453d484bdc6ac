"""Process long videos in parallel segments.

MediaPipe runs inference on one thread, so one process leaves the other cores idle. A video is cut into
contiguous frame ranges, one per worker process; each worker seeks to its range, decodes on a background
thread while the main thread runs the model (decode and inference overlap), and reports progress through a
shared counter. Each segment also processes ``overlap`` frames before its start ("warm-up"), so that
MediaPipe's tracking has settled by the first frame that counts and the caller can match people across the
boundary on frames both neighbours saw.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from posecoach.errors import PoseCoachError

T = TypeVar("T")
_counter: Any = None  # the shared progress counter, set in each worker process by `_init_worker`
_local: list[Any] = []  # in-process runs: [frames done, callback]


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` count; ``[warmup_start, start)`` only warm the tracker up."""

    index: int
    start: int
    stop: int
    warmup_start: int

    @property
    def num_frames(self) -> int:
        return self.stop - self.warmup_start


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def plan_segments(num_frames: int, workers: int, *, overlap: int = 10, min_frames: int = 300) -> list[Segment]:
    """Split ``num_frames`` into at most ``workers`` segments of at least ``min_frames`` frames each."""
    n = max(1, min(workers, num_frames // max(min_frames, 1)))
    bounds = [round(i * num_frames / n) for i in range(n + 1)]
    return [Segment(i, bounds[i], bounds[i + 1], max(0, bounds[i] - (overlap if i else 0))) for i in range(n)]


def prefetch(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Iterate ``items`` on a background thread, ``depth`` ahead (PyAV releases the GIL while decoding)."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=produce, name="posecoach-decode", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def report_progress(frames: int) -> None:
    """Called inside a worker to add ``frames`` to the shared progress counter (no-op in-process)."""
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += frames
    elif _local:
        _local[0] += frames
        if _local[1] is not None:
            _local[1](_local[0])


def counted(items: Iterable[T], every: int = 8) -> Iterator[T]:
    """Yield ``items``, adding them to the progress counter ``every`` at a time (and the rest at the end)."""
    pending = 0
    try:
        for item in items:
            yield item
            pending += 1
            if pending == every:
                report_progress(pending)
                pending = 0
    finally:
        if pending:
            report_progress(pending)


def _init_worker(counter: Any) -> None:
    global _counter
    _counter = counter
    os.environ.setdefault("GLOG_minloglevel", "2")


class WorkerPool:
    """A pool of worker processes (spawned: MediaPipe does not survive fork) with a progress counter."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._ctx = mp.get_context("spawn")
        self._counter = self._ctx.Value("q", 0)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_init_worker,
                                             initargs=(self._counter,))
        return self._pool

    def run(self, fn: Callable[..., T], jobs: list[tuple[Any, ...]], *,
            progress: Callable[[int], None] | None = None) -> list[T]:
        """``[fn(*job) for job in jobs]`` across the workers, in order; ``progress(frames_done)`` meanwhile."""
        with self._counter.get_lock():
            self._counter.value = 0
        futures: list[Future[T]] = [self._executor().submit(fn, *job) for job in jobs]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                if progress is not None:
                    progress(int(self._counter.value))
                for f in done:
                    exc = f.exception()
                    if isinstance(exc, BrokenProcessPool):
                        raise PoseCoachError(
                            "PoseCoach's worker processes could not start or died; in a script, put the calling "
                            "code under `if __name__ == \"__main__\":` (they are spawned), or use workers=1"
                        ) from exc
                    if exc is not None:
                        raise exc
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            self.close(wait_for_workers=False)
            raise

    def close(self, *, wait_for_workers: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait_for_workers, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in_process(fn: Callable[..., T], jobs: list[tuple[Any, ...]], *,
                   progress: Callable[[int], None] | None = None) -> list[T]:
    """The same contract as `WorkerPool.run`, without processes (short videos, images)."""
    saved = list(_local)
    _local[:] = [0, progress]
    try:
        return [fn(*job) for job in jobs]
    finally:
        _local[:] = saved
