"""The in-process job runner: jobs cut off by a stopped server are finished at the next start, and a worker
process killed mid-job (SIGKILL) loses nothing: the job is retried and its result stored once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from posecoach.service import Settings, create_app
from posecoach.service.db import Database, Result
from tests.conftest import data_file
from tests.integration.service.conftest import Api


def _start(settings: Settings) -> tuple[TestClient, Database, str]:
    client = TestClient(create_app(settings))
    client.__enter__()
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    return client, db, db.create_user(f"u{time.monotonic_ns()}")[1]


def test_a_job_cut_off_by_a_stopped_server_finishes_at_the_next_start(tmp_path: Path, small_video: bytes) -> None:
    settings = Settings(data_dir=tmp_path, job_executor="thread")
    client, db, key = _start(settings)
    client.app.state.runner.submit = lambda job_id: None  # type: ignore[attr-defined]  # the server "dies"
    api = Api(client, {"me": key})
    video_id = api.upload(small_video, who="me").json()["id"]
    job_id = api.call("POST", "/v1/jobs", "me", json={"video_id": video_id}).json()["id"]
    assert db.claim(job_id)  # it had started
    client.__exit__(None, None, None)
    client, db, _ = _start(settings)
    try:
        job = Api(client, {"me": key}).wait(job_id, who="me")
    finally:
        client.__exit__(None, None, None)
    assert job["state"] == "done" and job["attempts"] == 2, job


def _children(runner: object) -> list[int]:
    pool = getattr(runner, "_pool", None)
    return [p.pid for p in (getattr(pool, "_processes", None) or {}).values()]


@pytest.mark.slow
@pytest.mark.video
def test_a_worker_killed_mid_job_loses_nothing(tmp_path: Path) -> None:
    clip = data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4")
    client, db, key = _start(Settings(data_dir=tmp_path, job_executor="process"))
    api = Api(client, {"me": key})
    try:
        video_id = api.upload(clip.read_bytes(), who="me").json()["id"]
        job_id = api.call("POST", "/v1/jobs", "me", json={"video_id": video_id}).json()["id"]
        runner = client.app.state.runner  # type: ignore[attr-defined]
        for _ in range(600):
            job = api.call("GET", f"/v1/jobs/{job_id}", "me").json()
            if job["state"] == "running" and _children(runner):
                break
            time.sleep(0.05)
        killed = _children(runner)
        assert job["state"] == "running" and killed
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        job = api.wait(job_id, who="me", timeout=300)
        report = api.call("GET", f"/v1/jobs/{job_id}/report", "me")
    finally:
        client.__exit__(None, None, None)
    assert job["state"] == "done" and job["attempts"] == 2 and job["error"] is None, job
    assert report.status_code == 200 and report.json()["input"]["frames"] == 49
    with db.session() as s:
        kinds = s.scalars(select(Result.kind).where(Result.job_id == job_id)).all()
        assert sorted(kinds) == ["csv", "overlay", "plot", "poses", "report", "series"]  # each result stored once
    assert not set(killed) & set(_children(runner))
