"""History with live sets (issue 26): migration 0009's ``live_sessions`` on SQLite, PostgreSQL and MariaDB, the
History merging finished jobs (with the video's file name) and live sets, its filters, and the live-session
routes scoped like every route (404 for what the caller may not read, 4xx with a reason)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from posecoach.service import care_db, live_db
from posecoach.service import history as history_db
from posecoach.service.db import Database, Result, new_id, utcnow
from posecoach.service.migrations import downgrade, upgrade
from tests.integration.service.conftest import Api
from tests.integration.service.test_db import _video

REPS = [{"index": 1, "start_s": 0.5, "end_s": 2.5, "duration_s": 2.0, "errors": []},
        {"index": 2, "start_s": 2.5, "end_s": 4.0, "duration_s": 1.5,
         "errors": [{"title": "Knees cave in", "cue": "Push the knees out", "severity": "warning"}]}]


def _set(count: int = 2, exercise: str | None = "squat", target: int | None = 10) -> live_db.Finished:
    return live_db.Finished(exercise=exercise, title="Squat", count=count, count_confidence=0.9, hold_s=None,
                            target=target, duration_s=12.5, reps=REPS)


def test_history_merges_jobs_and_live_sets_with_names_and_filters(db: Database) -> None:
    assert "live_sessions" in inspect(db.engine).get_table_names()
    alice, _ = db.create_user("alice")
    carol, _ = db.create_user("carol", "clinician")
    job = db.add_job(alice, _video(db, alice), "analyze", {"exercise": "squat"})
    assert db.claim(job.id)
    assert db.finish(job.id, Result(id=new_id(), job_id=job.id, kind="report", storage_key="r.json",
                                    exercise="squat", rep_count=5, rep_confidence=0.8, error_count=1))
    live = live_db.save(db, alice, _set())
    live_db.save(db, alice, _set(exercise="pull_up", target=None))
    items = history_db.entries(db, alice.id)
    assert sorted((i.source, i.exercise) for i in items) == [("live", "pull_up"), ("live", "squat"),
                                                             ("upload", "squat")]
    times = [i.finished_at for i in items]
    assert times == sorted(times, reverse=True)  # newest first (MariaDB keeps whole seconds: ties in any order)
    [upload] = [i for i in items if i.source == "upload"]
    [mine] = [i for i in items if i.exercise == "squat" and i.source == "live"]
    assert (upload.file_name, upload.kind, upload.rep_count, upload.rep_confidence) == ("clip.mp4", "analyze", 5, 0.8)
    assert (mine.job_id, mine.kind, mine.file_name, mine.video_id) == (live.id, "live", None, None)
    assert (mine.rep_count, mine.error_count, mine.target, mine.duration_s) == (2, 1, 10, 12.5)
    assert sorted(i.source for i in history_db.entries(db, alice.id, exercise="squat")) == ["live", "upload"]
    today = utcnow().date()
    assert len(history_db.entries(db, alice.id, since=today, until=today)) == 3
    assert history_db.entries(db, alice.id, until=today - timedelta(days=1)) == []
    assert history_db.entries(db, alice.id, since=today + timedelta(days=1)) == []
    # scoped: a clinician reads a patient's live set once the patient accepted, never deletes it
    assert live_db.record(db, carol, live.id) is None
    care_db.accept(db, alice, care_db.invite(db, carol, "alice").id)
    found = live_db.record(db, carol, live.id)
    assert found is not None and found.rep_items() == REPS
    assert not live_db.delete(db, carol, live.id) and live_db.delete(db, alice, live.id)
    assert live_db.record(db, alice, live.id) is None
    downgrade(db.engine, "0008")
    assert "live_sessions" not in inspect(db.engine).get_table_names()
    upgrade(db.engine)
    assert [i.source for i in history_db.entries(db, alice.id)] == ["upload"]


def test_live_session_routes_and_history_api(api: Api) -> None:
    db: Database = api.client.app.state.db  # type: ignore[attr-defined]
    alice = db.user_for_key(api.keys["alice"])
    assert alice is not None
    live = live_db.save(db, alice, _set())
    [item] = api.call("GET", "/v1/history").json()
    assert item["source"] == "live" and item["kind"] == "live" and item["job_id"] == live.id
    assert item["rep_count"] == 2 and item["target"] == 10 and item["exercise"] == "squat"
    got = api.call("GET", f"/v1/live-sessions/{live.id}")
    assert got.status_code == 200
    body = got.json()
    assert body["reps"][1]["errors"][0]["title"] == "Knees cave in" and body["reps"][0]["duration_s"] == 2.0
    assert body["error_count"] == 1 and body["duration_s"] == 12.5
    assert api.call("GET", f"/v1/live-sessions/{live.id}", "bob").status_code == 404
    assert api.call("DELETE", f"/v1/live-sessions/{live.id}", "bob").status_code == 404
    assert api.call("GET", "/v1/history?exercise=pull_up").json() == []
    bad = api.call("GET", "/v1/history?since=2026-12-08&until=2026-12-01")
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
    assert api.call("GET", "/v1/history?since=yesterday").status_code == 422
    assert api.call("DELETE", f"/v1/live-sessions/{live.id}").status_code == 204
    assert api.call("GET", f"/v1/live-sessions/{live.id}").status_code == 404
    assert api.call("GET", "/v1/history").json() == []
