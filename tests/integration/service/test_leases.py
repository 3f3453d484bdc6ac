"""Job leases on SQLite, PostgreSQL and MariaDB: a running job's worker renews its lease; a job whose worker
went silent is taken over (once, counting the attempt) or queued again by the sweep, until attempts run out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from posecoach.service import tasks
from posecoach.service.db import FAILED, QUEUED, RUNNING, Database, Job, User, utcnow
from posecoach.service.jobs import Sweeper, execute
from posecoach.service.migrations import upgrade
from posecoach.service.settings import Settings
from tests.integration.service.test_db import _video


def _running(db: Database, silent_s: float) -> tuple[User, str]:
    """A job claimed by worker "a" whose last heartbeat was ``silent_s`` seconds ago."""
    user, _ = db.create_user("u")
    job = db.add_job(user, _video(db, user), "analyze", {})
    assert db.claim(job.id, worker="a", lease_s=30, max_attempts=3)
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(seconds=silent_s)))
    return user, job.id


def test_a_live_lease_is_kept_and_a_silent_one_is_taken_over_once(db: Database) -> None:
    user, job_id = _running(db, silent_s=5)
    assert not db.claim(job_id, worker="b", lease_s=30, max_attempts=3)  # "a" is alive: not taken
    assert db.heartbeat(job_id, "a") and not db.heartbeat(job_id, "b")
    with db.session() as s:  # then "a" goes silent
        s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=60)))
    assert db.claim(job_id, worker="b", lease_s=30, max_attempts=3)
    assert not db.claim(job_id, worker="c", lease_s=30, max_attempts=3)  # "b" holds it now
    job = db.job(user, job_id)
    assert job is not None and (job.state, job.worker, job.attempts) == (RUNNING, "b", 2)
    assert not db.heartbeat(job_id, "a")  # the old worker learns it lost the lease


def test_the_sweep_queues_silent_jobs_again_until_attempts_run_out(db: Database) -> None:
    user, job_id = _running(db, silent_s=60)
    sent: list[str] = []
    sweeper = Sweeper(Settings(job_lease_s=30, job_max_attempts=2), db, sent.append)
    assert sweeper.sweep() == [job_id] and sent == [job_id]
    job = db.job(user, job_id)
    assert job is not None and job.state == QUEUED and "stopped answering" in (job.error or "")
    assert sweeper.sweep() == []  # queued now: nothing to sweep
    assert db.claim(job_id, worker="b")  # attempt 2 of 2 ...
    with db.session() as s:  # ... whose worker dies too
        s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=60)))
    assert not db.claim(job_id, worker="c", lease_s=30, max_attempts=2)  # no attempts left to take it over
    assert sweeper.sweep() == [] and sent == [job_id]
    job = db.job(user, job_id)
    assert job is not None and (job.state, job.attempts) == (FAILED, 2) and job.finished_at is not None
    assert db.count_running() == 0


def test_a_crash_is_recorded_only_by_the_worker_still_holding_the_job(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, job_max_attempts=3)
    db = Database(settings.resolved_database_url())
    upgrade(db.engine)
    user, _ = db.create_user("u")
    lost, kept = (db.add_job(user, _video(db, user), "analyze", {}) for _ in range(2))

    def crash(db_: Database, storage: object, settings_: Settings, job_id: str) -> str:
        if job_id == lost.id:  # meanwhile its lease ran out and another worker took it over
            with db.session() as s:
                s.execute(update(Job).where(Job.id == job_id).values(worker="other"))
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "run", crash)
    assert execute(settings, lost.id) == RUNNING
    job = db.job(user, lost.id)
    assert job is not None and (job.state, job.worker, job.error) == (RUNNING, "other", None)
    assert execute(settings, kept.id) == QUEUED  # its own crash: recorded, tried again later
    job = db.job(user, kept.id)
    assert job is not None and job.error == "unexpected RuntimeError: boom" and job.attempts == 1
    db.close()
