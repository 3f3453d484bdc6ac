"""The job outbox: a job is recorded first and handed to the queue after, so a queue that is down loses no job.

A new job row is committed with ``dispatched_at`` NULL ("not yet handed to the queue", migration 0007). Then its
message is sent: `dispatch` first *takes* the job (``UPDATE ... SET dispatched_at = now WHERE dispatched_at IS
NULL``: one sender wins, however many API processes and workers try at once), then sends; when the send fails
(Redis is down) it gives the job back (NULL again) and the job waits, recorded and queued. The `Dispatcher`
thread of `posecoach serve` and of every `posecoach worker` sends the jobs left waiting every
``POSECOACH_OUTBOX_INTERVAL_S`` seconds, so each is handed over once the queue is back, exactly once.

A job that goes back to the queue (a retry, or a lease that ran out) is given back to the outbox in the same
UPDATE, so it is sent again the same way. If Redis restarts and comes back empty (no persistence), the messages
it held are lost: the dispatcher notices the new Redis server (its ``run_id``) and hands every queued job over
again. A job sent twice still runs once: the worker claims it in the database first (`Database.claim`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from posecoach.service.db import QUEUED, Database, Job, utcnow
from posecoach.service.periodic import Periodic

log = logging.getLogger(__name__)
Send = Callable[[str], object]


def take(db: Database, job_id: str) -> bool:
    """Mark a queued job as handed over; False when it is handed over already (or is no longer queued)."""
    with db.session() as s:
        return s.execute(update(Job).where(Job.id == job_id, Job.state == QUEUED, Job.dispatched_at.is_(None))
                         .values(dispatched_at=utcnow())).rowcount == 1


def give_back(db: Database, job_id: str) -> None:
    """The send failed: the job waits in the outbox again."""
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(dispatched_at=None))


def dispatch(db: Database, send: Send, job_id: str) -> bool:
    """Hand one job to the queue once: True when this call sent it; False when the queue is down (the job
    waits in the outbox) or someone else sent it."""
    if not take(db, job_id):
        return False
    try:
        send(job_id)
    except Exception as exc:
        log.warning("job %s: the queue is unavailable (%s); it waits in the outbox", job_id, exc)
        give_back(db, job_id)
        return False
    return True


def waiting(db: Database, limit: int = 500) -> list[str]:
    """Queued jobs not handed to the queue yet, oldest first."""
    with db.session() as s:
        return list(s.scalars(select(Job.id).where(Job.state == QUEUED, Job.dispatched_at.is_(None))
                              .order_by(Job.created_at).limit(limit)).all())


def dispatch_waiting(db: Database, send: Send) -> int:
    """Send the jobs waiting in the outbox, stopping at the first failed send (the queue is still down); how
    many were sent by this call."""
    sent = 0
    for job_id in waiting(db):
        if take(db, job_id):
            try:
                send(job_id)
            except Exception as exc:
                give_back(db, job_id)
                log.info("the queue is still unavailable (%s): %d jobs wait in the outbox", exc,
                         len(waiting(db)))
                break
            sent += 1
    if sent:
        log.info("outbox: %d waiting jobs handed to the queue", sent)
    return sent


def reopen(db: Database, older_than_s: float = 0.0) -> int:
    """Give every queued job handed over more than ``older_than_s`` ago back to the outbox (the queue lost its
    messages); how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with db.session() as s:
        return int(s.execute(update(Job).where(Job.state == QUEUED, Job.dispatched_at.is_not(None),
                                               Job.dispatched_at <= cutoff)
                             .values(dispatched_at=None)).rowcount or 0)


class Dispatcher(Periodic):
    """A thread sending the outbox's waiting jobs every ``every`` seconds. ``server_id``: the queue server's
    identity (Redis ``run_id``), or None when it cannot be asked; when it changes, the queue restarted and may
    have lost its messages, so every queued job is handed over again."""

    def __init__(self, db: Database, send: Send, every: float, server_id: Callable[[], str | None] | None = None
                 ) -> None:
        super().__init__("posecoach-outbox", every, first_now=True)
        self.db, self.send, self.server_id = db, send, server_id
        self._seen: str | None = None

    def run_once(self) -> int:
        try:
            self._check_server()
            return dispatch_waiting(self.db, self.send)
        except Exception as exc:  # the database is away: try again next round
            log.warning("outbox: %s", exc)
            return 0

    def _check_server(self) -> None:
        if self.server_id is None:
            return
        try:
            now = self.server_id()
        except Exception:
            return  # down: nothing to compare; the sends fail and wait
        if now and self._seen and now != self._seen:
            n = reopen(self.db)
            log.warning("the queue server restarted (run id %s -> %s): %d queued jobs handed over again",
                        self._seen, now, n)
        self._seen = now or self._seen
