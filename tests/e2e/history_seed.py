"""Rows put straight into the browser tests' database (the service's own tables, as the service writes them), for
History pages that need sessions the tests would take minutes to make through the API: a live set, a finished
comparison with a score."""

from __future__ import annotations

from typing import Any

from posecoach.service import Settings, accounts_db, live_db
from posecoach.service.db import Database, Result, Video, new_id, utcnow
from tests.e2e.conftest import WebServer


def database(server: WebServer) -> Database:
    return Database(Settings(data_dir=server.data_dir).resolved_database_url())


def new_user(server: WebServer, name: str, role: str = "user", password: str | None = None) -> None:
    """A new user of the test server, signed in by ``signed_in(browser, server, name)`` (or with ``password``)."""
    db = database(server)
    try:
        hashed = accounts_db.hash_password(password) if password else None
        user, server.keys[name] = db.create_user(name, role, password_hash=hashed)
        server.ids[name] = user.id
    finally:
        db.close()


def live_set(server: WebServer, user: str, exercise: str, title: str, count: int, target: int | None = None,
             errors_in: tuple[int, ...] = ()) -> str:
    """A finished live set of ``user`` kept in History; its id."""
    issue = {"title": "Half repetition", "cue": "Go all the way", "severity": "medium"}
    reps: list[dict[str, Any]] = [{"index": i, "start_s": 2.0 * i, "end_s": 2.0 * i + 1.8, "duration_s": 1.8,
                                   "errors": [issue] if i in errors_in else []} for i in range(1, count + 1)]
    db = database(server)
    try:
        owner = db.user_for_key(server.keys[user])
        assert owner is not None
        done = live_db.Finished(exercise=exercise, title=title, count=count, count_confidence=0.9, hold_s=None,
                                target=target, duration_s=2.0 * count + 3, reps=reps)
        return live_db.save(db, owner, done).id
    finally:
        db.close()


def comparison(server: WebServer, user: str, guide: str, score: float) -> str:
    """A finished comparison of ``user`` with ``score`` (its report is not stored: History reads the figures only)."""
    db = database(server)
    try:
        owner = db.user_for_key(server.keys[user])
        assert owner is not None
        video = db.add_video(Video(id=new_id(), owner_id=owner.id, filename="attempt.mp4",
                                   storage_key="videos/none.mp4", size_bytes=1, width=64, height=48, fps=30.0,
                                   num_frames=30, duration_s=1.0,
                                   created_at=utcnow()))
        job = db.add_job(owner, video, "compare", {"reference_id": "none"})
        assert db.claim(job.id)
        assert db.finish(job.id, Result(id=new_id(), job_id=job.id, kind="report", storage_key="results/none.json",
                                        exercise=guide, score=score))
        return job.id
    finally:
        db.close()
