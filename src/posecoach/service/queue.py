"""The Redis task queue: with ``POSECOACH_REDIS_URL`` set, `posecoach serve` only enqueues job ids
(`QueueRunner`) and `posecoach worker` processes on any number of machines run them (`run_worker`).

Why Dramatiq (not Celery): its Redis broker acknowledges a message only after the actor returns and puts the
unacknowledged messages of a worker that stopped sending heartbeats back on the queue, which is exactly "a
worker killed mid-job does not lose the job", with no option to get wrong; Celery on Redis needs
``acks_late`` + ``reject_on_worker_lost`` + a visibility timeout longer than the longest job to get close.
Dramatiq is also small (no result backend, no beat, no pickle) and the service needs none of the rest: job
state lives in the database, and a message carries only the job id.

The queue is only the delivery: `posecoach.service.jobs.execute` claims the job in the database (one worker
wins, attempts counted, lease taken), so a message delivered twice runs the job once, and the lease `Sweeper`
re-queues a job whose worker died even if its message were lost.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from posecoach.service import lifecycle, outbox
from posecoach.service.db import QUEUED, Database
from posecoach.service.jobs import Sweeper, _database, execute
from posecoach.service.settings import Settings

log = logging.getLogger(__name__)
QUEUE, ACTOR = "jobs", "posecoach_job"
_DAY_MS = 24 * 3600 * 1000


def connect(settings: Settings) -> tuple[Any, Any]:
    """The Redis broker of ``settings`` and the job actor declared on it: (broker, actor)."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    if not settings.redis_url:
        raise ValueError("POSECOACH_REDIS_URL is not set")
    # A broker whose heartbeats stop for a lease is dead: its unacknowledged messages go back to the queue.
    broker = RedisBroker(url=settings.redis_url, namespace=settings.redis_namespace,
                         heartbeat_timeout=int(settings.job_lease_s * 1000))

    def perform(job_id: str) -> None:
        if execute(settings, job_id) == QUEUED:  # failed, attempts left: send it round again (via the outbox)
            outbox.dispatch(_database(settings.resolved_database_url()), actor.send, job_id)

    # Retries only when the actor itself raises (the database is away); the job's own retries are counted in
    # the database. Time limit: a day (a long video), not Dramatiq's 10 minutes.
    actor = dramatiq.Actor(perform, broker=broker, actor_name=ACTOR, queue_name=QUEUE, priority=0,
                           options={"max_retries": 5, "min_backoff": 1000, "max_backoff": 60000,
                                    "time_limit": _DAY_MS})
    return broker, actor


class QueueRunner:
    """What `posecoach serve` uses with a Redis URL: the same interface as `LocalRunner`, but `submit` only
    enqueues; the work happens in `posecoach worker` processes."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self.broker, self.actor = connect(settings)
        self._sweeper = Sweeper(settings, db, self.submit)
        self._dispatcher = outbox.Dispatcher(db, self.actor.send, settings.outbox_interval_s, self.server_id)
        self._closed = False

    def start(self) -> None:
        """Send again the jobs still queued (a message sent twice runs the job once), through the outbox: the
        dispatcher thread sends them, now if the queue is up, else once it is back; sweep stale leases."""
        try:
            outbox.reopen(self.db)
        except Exception as exc:  # the database is away: its jobs wait for the next start
            log.warning("could not reopen the outbox: %s", exc)
        self._dispatcher.start()
        self._sweeper.start()

    def submit(self, job_id: str) -> bool:
        """Hand a recorded job to the queue once; False when the queue is down (the job waits in the outbox and
        the dispatcher sends it when the queue is back)."""
        return not self._closed and outbox.dispatch(self.db, self.actor.send, job_id)

    def server_id(self) -> str | None:
        """The Redis server's run id (changes when Redis restarts)."""
        return str(self.broker.client.info("server").get("run_id") or "") or None

    def busy(self) -> int:
        """Jobs running now, on every worker."""
        return self.db.count_running()

    def alive(self) -> bool:
        try:
            return not self._closed and bool(self.broker.client.ping())
        except Exception:
            return False

    def close(self) -> None:
        self._closed = True
        self._dispatcher.stop()
        self._sweeper.stop()
        self.broker.close()


def run_worker(settings: Settings, threads: int, stop: threading.Event) -> None:
    """Take jobs from the queue with ``threads`` threads until ``stop`` is set; sweep stale leases meanwhile."""
    import dramatiq

    broker, actor = connect(settings)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
    worker.queue_prefetch = threads  # hold only the jobs it runs, so idle workers elsewhere get the rest
    db = Database(settings.resolved_database_url())
    sweeper = Sweeper(settings, db, lambda job_id: outbox.dispatch(db, actor.send, job_id))
    dispatcher = outbox.Dispatcher(db, actor.send, settings.outbox_interval_s,
                                   lambda: str(broker.client.info("server").get("run_id") or "") or None)
    try:  # what killed attempts left in this machine's temporary folder
        lifecycle.sweep_temp(db, [], settings.stale_after_s)
    except Exception as exc:
        log.warning("sweeping temporary folders failed: %s", exc)
    worker.start()
    sweeper.start()
    dispatcher.start()  # jobs recorded while the queue was down are sent from here too
    try:
        stop.wait()
    finally:
        dispatcher.stop()
        sweeper.stop()
        worker.stop()
        broker.close()
