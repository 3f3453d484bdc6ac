"""Jobs: `execute` runs one job by id (claim, do its task (`tasks.py`), record the state); `LocalRunner`
runs jobs in a pool inside the server, so `posecoach serve` alone does everything.

All job state lives in the database: a job is claimed atomically (one worker wins), its progress is written
as it goes, its result is stored once with the final state in one transaction, a crash is retried up to
``job_max_attempts`` and a bad input fails at once with the reason. Jobs left queued or running by a server
that stopped are picked up again at start-up.

Leases: while a job runs, its worker writes ``jobs.worker`` and ``jobs.heartbeat_at`` every
``job_heartbeat_s`` (`Heartbeat`); a running job silent for ``job_lease_s`` (its worker was killed, its
machine lost) is queued again by the `Sweeper` of any runner or worker, or taken over by a worker that gets
its message again, until its attempts run out. The same code serves the in-process pool and the Redis queue
(`posecoach.service.queue`).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from posecoach.errors import PoseCoachError
from posecoach.service import job_control, tasks, work
from posecoach.service.db import CANCELLED, QUEUED, RUNNING, Database
from posecoach.service.periodic import Periodic
from posecoach.service.settings import Settings
from posecoach.service.storage import open_storage

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _database(url: str) -> Database:
    return Database(url)  # one engine per process and URL (a worker runs many jobs)


def worker_name() -> str:
    """Who runs a job: host, process and thread (stored in ``jobs.worker``)."""
    return f"{socket.gethostname()[:36]}:{os.getpid()}:{threading.get_ident() % 10**8}"


class Heartbeat:
    """While the block runs, a thread renews the job's lease every ``every`` seconds."""

    def __init__(self, db: Database, job_id: str, worker: str, every: float) -> None:
        self.db, self.job_id, self.worker, self.every = db, job_id, worker, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.db.heartbeat(self.job_id, self.worker):
                    log.warning("job %s: lease lost (taken over or finished elsewhere)", self.job_id)
                    return
            except Exception as exc:  # the database is briefly away: try again at the next beat
                log.warning("job %s: heartbeat failed: %s", self.job_id, exc)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def execute(settings: Settings, job_id: str) -> str:
    """Claim and run one job; never raises. Returns the job's state afterwards (``running`` if not claimed)."""
    db = _database(settings.resolved_database_url())
    worker = worker_name()
    if not db.claim(job_id, worker=worker, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts):
        return RUNNING
    with Heartbeat(db, job_id, worker, settings.job_heartbeat_s):
        try:
            return tasks.run(db, open_storage(settings), settings, job_id)
        except work.JobStopped:  # cancelled or deleted meanwhile (`job_control`): leave the row as it is
            log.info("job %s stopped: it is no longer running", job_id)
            return job_control.state_of(db, job_id) or CANCELLED
        except PoseCoachError as exc:  # the input cannot be analysed: no point in trying again
            reason, retry = str(exc), False
        except Exception as exc:
            log.exception("job %s failed", job_id)
            reason, retry = f"unexpected {type(exc).__name__}: {exc}", True
    if not db.heartbeat(job_id, worker):  # taken over meanwhile (lease ran out): its new worker decides
        return RUNNING
    return db.fail(job_id, reason, retry=retry, max_attempts=settings.job_max_attempts)


class Sweeper(Periodic):
    """A thread that, every ``job_heartbeat_s``, queues again the running jobs whose lease ran out."""

    def __init__(self, settings: Settings, db: Database, submit: Callable[[str], None]) -> None:
        super().__init__("posecoach-sweeper", settings.job_heartbeat_s, first_now=False)
        self.settings, self.db, self.submit = settings, db, submit

    def run_once(self) -> list[str]:
        return self.sweep()

    def sweep(self) -> list[str]:
        try:
            stale = self.db.requeue_stale(self.settings.job_lease_s, self.settings.job_max_attempts)
            for job_id in stale:
                log.warning("job %s: its worker went silent; queued again", job_id)
                self.submit(job_id)
            return stale
        except Exception as exc:
            log.warning("sweeping stale jobs failed: %s", exc)
            return []


def _init_child() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")


class LocalRunner:
    """The in-process job queue: a pool of ``settings.job_workers`` processes (or threads)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self._lock = threading.Lock()
        self._pool: Executor | None = None
        self._pending: dict[str, Future[str]] = {}
        self._closed = False
        self._sweeper = Sweeper(settings, db, self.submit)

    def _executor(self) -> Executor:
        if self._pool is None:
            n = self.settings.job_workers
            self._pool = (ThreadPoolExecutor(n, thread_name_prefix="posecoach-job")
                          if self.settings.job_executor == "thread" else
                          ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"), initializer=_init_child))
        return self._pool

    def start(self) -> None:
        """Queue again the jobs a previous server left unfinished (a running one was cut off mid-way)."""
        for job_id in self.db.unfinished_jobs():
            loaded = self.db.load_job(job_id)
            if loaded and loaded[0].state == RUNNING:
                self.db.fail(job_id, "the server stopped during the job", retry=True,
                             max_attempts=self.settings.job_max_attempts)
            self.submit(job_id)
        self._sweeper.start()

    def submit(self, job_id: str) -> None:
        with self._lock:
            if self._closed or job_id in self._pending:
                return
            pool = self._executor()
            future = pool.submit(execute, self.settings, job_id)
            self._pending[job_id] = future
        future.add_done_callback(lambda f, j=job_id, p=pool: self._done(j, f, p))

    def _done(self, job_id: str, future: Future[str], pool: Executor) -> None:
        with self._lock:
            self._pending.pop(job_id, None)
        try:
            state = future.result()
        except BrokenProcessPool:  # a child died: every job it held is retried, in a new pool
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False)
            state = self.db.fail(job_id, "the worker process died (out of memory, or a crash in the pose model)",
                                 retry=True, max_attempts=self.settings.job_max_attempts)
        except Exception as exc:  # e.g. the pool shut down under it
            log.warning("job %s did not run: %s", job_id, exc)
            return
        if state == QUEUED and not self._closed:
            self.submit(job_id)  # a retry

    def busy(self) -> int:
        with self._lock:
            return len(self._pending)

    def alive(self) -> bool:
        return not self._closed

    def close(self) -> None:
        self._sweeper.stop()
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
