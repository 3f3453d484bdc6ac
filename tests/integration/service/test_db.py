"""The database layer on SQLite, PostgreSQL and MariaDB alike: migrations, hashed keys, caller scoping and
the job life cycle (claimed once, result stored once, retries up to the limit)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from posecoach.service import care_db
from posecoach.service.db import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    ApiKey,
    Database,
    Result,
    User,
    Video,
    hash_key,
    new_id,
    utcnow,
)
from posecoach.service.migrations import downgrade, upgrade


def _video(db: Database, owner: User) -> Video:
    return db.add_video(Video(id=new_id(), owner_id=owner.id, filename="clip.mp4", storage_key="videos/x.mp4",
                              size_bytes=123, width=64, height=48, fps=30.0, num_frames=10, duration_s=0.33,
                              created_at=utcnow()))


def _result(job_id: str) -> Result:
    return Result(id=new_id(), job_id=job_id, kind="report", storage_key=f"results/{job_id}.json",
                  exercise="squat", rep_count=3, created_at=utcnow())


def test_migrations_make_the_schema_and_run_both_ways(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "api_keys", "care_links", "videos", "jobs", "results", "alembic_version"} <= tables
    upgrade(db.engine)  # a current database is left as it is
    downgrade(db.engine)
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(db.engine)
    assert "jobs" in inspect(db.engine).get_table_names()


def test_downgrading_a_column_away_keeps_the_rows_that_refer_to_its_table(db: Database) -> None:
    """0007's downgrade drops ``jobs.dispatched_at``: a batch copy of ``jobs`` on SQLite (drop the old table with
    foreign keys on) deleted every result; each database keeps them."""
    alice, _ = db.create_user("alice")
    job = db.add_job(alice, _video(db, alice), "analyze", {})
    with db.session() as s:
        s.add(_result(job.id))
    downgrade(db.engine, "0006")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM results").scalar() == 1
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM jobs").scalar() == 1
    assert "dispatched_at" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    upgrade(db.engine)


def test_keys_are_stored_hashed_and_find_their_user(db: Database) -> None:
    alice, key = db.create_user("alice")
    assert key.startswith("pc_") and len(key) > 40
    with db.session() as s:
        stored = s.scalars(select(ApiKey.key_hash)).all()
    assert stored == [hash_key(key)] and key not in stored
    found = db.user_for_key(key)
    assert found is not None and found.id == alice.id
    assert db.user_for_key(key + "x") is None
    assert db.count_users() == 1
    try:
        db.create_user("alice")
        raise AssertionError("a duplicate name was accepted")
    except ValueError as exc:
        assert "exists" in str(exc)


def test_queries_are_scoped_to_the_caller(db: Database) -> None:
    alice, _ = db.create_user("alice")
    bob, _ = db.create_user("bob")
    carol, _ = db.create_user("carol", "clinician")
    root, _ = db.create_user("root", "admin")
    video = _video(db, alice)
    job = db.add_job(alice, video, "analyze", {})
    assert db.video(alice, video.id) is not None and db.job(alice, job.id) is not None
    assert db.video(bob, video.id) is None and db.job(bob, job.id) is None
    assert db.videos(bob) == [] and db.jobs(bob) == []
    assert db.delete_video(bob, video.id) is None
    assert db.video(carol, video.id) is None  # not her patient yet
    with pytest.raises(care_db.Refused):
        care_db.invite(db, bob, "alice")  # only clinicians have patients
    link = care_db.invite(db, carol, "alice")
    assert db.video(carol, video.id) is None  # invited, not accepted
    care_db.accept(db, alice, link.id)
    assert db.video(carol, video.id) is not None and [j.id for j in db.jobs(carol)] == [job.id]
    assert db.video(root, video.id) is not None
    assert [v.id for v in db.videos(alice)] == [video.id]


def test_a_job_is_claimed_once_and_its_result_stored_once(db: Database) -> None:
    alice, _ = db.create_user("alice")
    job = db.add_job(alice, _video(db, alice), "analyze", {"exercise": "squat"})
    assert db.unfinished_jobs() == [job.id]
    assert db.claim(job.id)
    assert not db.claim(job.id)  # a second worker does not get it
    db.set_progress(job.id, 0.5)
    loaded = db.load_job(job.id)
    assert loaded is not None
    assert loaded[0].state == RUNNING and loaded[0].progress == 0.5 and loaded[0].attempts == 1
    assert loaded[0].parameters() == {"exercise": "squat"}
    assert db.finish(job.id, _result(job.id))
    assert not db.finish(job.id, _result(job.id))
    done = db.job(alice, job.id)
    assert done is not None and done.state == DONE and done.progress == 1.0
    result = db.result(done)
    assert result is not None and result.rep_count == 3
    assert [(j.id, r.exercise) for j, r in db.history(alice)] == [(job.id, "squat")]
    assert db.unfinished_jobs() == []


def test_failures_are_retried_up_to_the_limit(db: Database) -> None:
    alice, _ = db.create_user("alice")
    job = db.add_job(alice, _video(db, alice), "analyze", {})
    states = []
    for _ in range(3):
        assert db.claim(job.id)
        states.append(db.fail(job.id, "boom", retry=True, max_attempts=3))
    assert states == [QUEUED, QUEUED, FAILED]
    assert not db.claim(job.id)
    bad = db.add_job(alice, _video(db, alice), "analyze", {})
    assert db.claim(bad.id)
    assert db.fail(bad.id, "not a video", retry=False, max_attempts=3) == FAILED
    failed = db.job(alice, bad.id)
    assert failed is not None and failed.error == "not a video" and failed.attempts == 1


def test_deleting_a_video_removes_its_jobs_and_results(db: Database) -> None:
    alice, _ = db.create_user("alice")
    video = _video(db, alice)
    job = db.add_job(alice, video, "analyze", {})
    db.claim(job.id)
    db.finish(job.id, _result(job.id))
    keys = db.delete_video(alice, video.id)
    assert keys == [video.storage_key, f"results/{job.id}.json"]
    assert db.video(alice, video.id) is None and db.jobs(alice) == []
