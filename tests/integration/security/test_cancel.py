"""Finding "no way to cancel a job; a job keeps running after its video is deleted" (issue 25): DELETE
/v1/jobs/{id} cancels a queued or running job (kept as ``cancelled`` with the reason), a running one stops at
its next progress step and stores nothing, deleting a video stops its jobs, and only the owner (or an admin)
cancels; the state changes hold on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from posecoach.service import job_control, library_db
from posecoach.service.db import CANCELLED, Database, Result, Video, new_id, utcnow
from posecoach.service.jobs import execute
from tests.integration.service.conftest import Api, ApiFactory, make_video


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"{what} within {timeout} s")


def _running(api: Api, tmp_path: Path) -> tuple[str, str]:
    """A pose job on a 100-second video (~50 s of pose estimation on one core of the test machine), once it runs
    and has reported progress: (video id, job id)."""
    data = make_video(tmp_path / "long.mp4", frames=3000, size=(64, 48), fps=30).read_bytes()
    video = api.upload(data).json()["id"]
    job = api.call("POST", "/v1/jobs", json={"video_id": video, "kind": "pose"}).json()["id"]
    _until(lambda: (j := api.call("GET", f"/v1/jobs/{job}").json())["state"] == "running" and j["progress"] > 0,
           90, "the job started")
    return video, job


def _stored_results(tmp_path: Path, job_id: str) -> list[Path]:
    return [p for p in (tmp_path / "service" / "storage" / "results").rglob("*") if p.is_file() and job_id in str(p)]


def test_cancelling_a_running_job_stops_it_soon(api_factory: ApiFactory, tmp_path: Path) -> None:
    api = api_factory()
    runner = api.client.app.state.runner  # type: ignore[attr-defined]
    _, job = _running(api, tmp_path)
    progress = api.call("GET", f"/v1/jobs/{job}").json()["progress"]
    assert progress < 0.5  # far from done
    answer = api.call("DELETE", f"/v1/jobs/{job}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "cancelled" and answer.json()["error"] == "cancelled by its owner"
    _until(lambda: runner.busy() == 0, 10, "the worker stopped")  # at its next progress step (every 0.5 s)
    time.sleep(0.5)
    after = api.call("GET", f"/v1/jobs/{job}").json()
    assert after["state"] == "cancelled" and after["progress"] <= progress + 0.2
    assert api.call("GET", f"/v1/jobs/{job}/results").json() == []
    assert _stored_results(tmp_path, job) == []
    assert api.call("GET", f"/v1/jobs/{job}/report").status_code == 409
    assert api.call("DELETE", f"/v1/jobs/{job}").json()["state"] == "cancelled"  # again: the same answer
    assert [j["id"] for j in api.call("GET", "/v1/jobs?state=cancelled").json()] == [job]


def test_deleting_a_video_stops_its_running_job(api_factory: ApiFactory, tmp_path: Path) -> None:
    api = api_factory()
    runner = api.client.app.state.runner  # type: ignore[attr-defined]
    video, job = _running(api, tmp_path)
    assert api.call("DELETE", f"/v1/videos/{video}").status_code == 204
    _until(lambda: runner.busy() == 0, 10, "the worker stopped")
    time.sleep(0.5)
    assert api.call("GET", f"/v1/jobs/{job}").status_code == 404
    assert _stored_results(tmp_path, job) == []


def test_a_queued_job_is_cancelled_and_never_runs_and_who_may_cancel(api_factory: ApiFactory,
                                                                     small_video: bytes) -> None:
    api = api_factory()
    app = api.client.app  # type: ignore[attr-defined]
    app.state.runner.submit = lambda job_id: None  # jobs stay queued
    video = api.upload(small_video).json()["id"]
    jobs = [api.call("POST", "/v1/jobs", json={"video_id": video, "kind": "pose"}).json()["id"] for _ in range(3)]
    assert api.call("DELETE", f"/v1/jobs/{jobs[0]}").json()["state"] == "cancelled"
    assert execute(app.state.settings, jobs[0]) == "running"  # a worker that gets it anyway does not claim it
    assert api.call("GET", f"/v1/jobs/{jobs[0]}").json()["state"] == "cancelled"
    # carol, alice's clinician, reads the job but may not cancel it (as she deletes none of alice's data); bob does
    # not see it; an admin may cancel it
    link = api.call("POST", "/v1/care-links", "carol", json={"patient": "alice"}).json()["id"]
    assert api.call("POST", f"/v1/care-links/{link}/accept").status_code == 200
    assert api.call("GET", f"/v1/jobs/{jobs[1]}", "carol").status_code == 200
    assert api.call("DELETE", f"/v1/jobs/{jobs[1]}", "carol").status_code == 404
    assert api.call("DELETE", f"/v1/jobs/{jobs[1]}", "bob").status_code == 404
    assert api.call("GET", f"/v1/jobs/{jobs[1]}").json()["state"] == "queued"
    assert api.call("DELETE", f"/v1/jobs/{'0' * 32}").status_code == 404
    by_admin = api.call("DELETE", f"/v1/jobs/{jobs[1]}", "root").json()
    assert by_admin["state"] == "cancelled" and by_admin["error"] == "cancelled by an administrator"
    execute(app.state.settings, jobs[2])  # runs to its end
    finished = api.call("GET", f"/v1/jobs/{jobs[2]}").json()["state"]
    assert finished in ("done", "failed")
    late = api.call("DELETE", f"/v1/jobs/{jobs[2]}")
    assert late.status_code == 409 and f"the job is {finished}" in late.json()["detail"]


def test_cancelling_on_each_database(db: Database) -> None:
    alice, _ = db.create_user("alice")
    bob, _ = db.create_user("bob")
    video = db.add_video(Video(id=new_id(), owner_id=alice.id, filename="v.mp4", storage_key="videos/v.mp4",
                               size_bytes=1, width=64, height=48, fps=30.0, num_frames=10, duration_s=0.33,
                               created_at=utcnow()))
    queued = db.add_job(alice, video, "pose", {})
    assert job_control.cancel(db, bob, queued.id) is None  # not his: not found
    done = job_control.cancel(db, alice, queued.id)
    assert done is not None and done.state == CANCELLED and done.finished_at is not None
    assert not db.claim(queued.id)  # never claimed
    running = db.add_job(alice, video, "pose", {})
    assert db.claim(running.id, worker="w")
    assert db.set_progress(running.id, 0.3)
    assert job_control.cancel(db, alice, running.id).state == CANCELLED  # type: ignore[union-attr]
    assert not db.set_progress(running.id, 0.4)  # the worker's next progress step sees it: it stops
    assert not db.heartbeat(running.id, "w")
    result = Result(id=new_id(), job_id=running.id, kind="report", storage_key="results/r.json", created_at=utcnow())
    assert not library_db.finish_job(db, running.id, [result])  # never done, nothing recorded
    assert library_db.results(db, running) == []
    assert db.fail(running.id, "boom", retry=True, max_attempts=3) == CANCELLED  # a late failure keeps it cancelled
    assert job_control.state_of(db, running.id) == CANCELLED
    assert job_control.state_of(db, "0" * 32) is None


def test_a_queue_worker_stops_a_cancelled_job_and_takes_the_next(tmp_path: Path, small_video: bytes) -> None:
    from tests.integration.service.test_queue import Cluster

    cluster = Cluster(tmp_path, f"sqlite:///{tmp_path / 'service.db'}")
    try:
        cluster.start_worker()  # one `posecoach worker` process with one thread: one job at a time
        api = cluster.api
        data = make_video(tmp_path / "long.mp4", frames=6000, size=(64, 48), fps=30).read_bytes()
        long = api.upload(data, who="me").json()["id"]
        first = api.call("POST", "/v1/jobs", "me", json={"video_id": long, "kind": "pose"}).json()["id"]
        cluster.wait(first, lambda j: j.state == "running" and j.progress > 0, timeout=120)
        assert api.call("DELETE", f"/v1/jobs/{first}", "me").json()["state"] == "cancelled"
        cancelled_at = time.monotonic()
        short = api.upload(small_video, who="me").json()["id"]
        second = api.call("POST", "/v1/jobs", "me", json={"video_id": short, "kind": "pose"}).json()["id"]
        cluster.wait(second, lambda j: j.state != "queued", timeout=60)
        assert time.monotonic() - cancelled_at < 8, "the worker went on with the cancelled job"
        assert cluster.wait(second, lambda j: j.state in ("done", "failed"), timeout=60).state == "done"
        job = cluster.job(first)
        assert job.state == "cancelled" and cluster.results(first) == []
    finally:
        cluster.close()
