"""Jobs: `execute` runs one job by id (claim, do its task (`tasks.py`), record the state); `LocalRunner`
runs jobs in a pool inside the server, so `posecoach serve` alone does everything.

All job state lives in the database: a job is claimed atomically (one worker wins), its progress is written
as it goes, its result is stored once with the final state in one transaction, a crash is retried up to
``job_max_attempts`` and a bad input fails at once with the reason. Jobs left queued or running by a server
that stopped are picked up again at start-up.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from posecoach.errors import PoseCoachError
from posecoach.service import tasks
from posecoach.service.db import QUEUED, RUNNING, Database
from posecoach.service.settings import Settings
from posecoach.service.storage import LocalStorage

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _database(url: str) -> Database:
    return Database(url)  # one engine per process and URL (a worker runs many jobs)


def execute(settings: Settings, job_id: str) -> str:
    """Claim and run one job; never raises. Returns the job's state afterwards (``running`` if not claimed)."""
    db = _database(settings.resolved_database_url())
    if not db.claim(job_id):
        return RUNNING
    storage = LocalStorage(settings.resolved_storage_dir())
    try:
        return tasks.run(db, storage, settings, job_id)
    except PoseCoachError as exc:  # the input cannot be analysed: no point in trying again
        return db.fail(job_id, str(exc), retry=False, max_attempts=settings.job_max_attempts)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        return db.fail(job_id, f"unexpected {type(exc).__name__}: {exc}", retry=True,
                       max_attempts=settings.job_max_attempts)


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
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
