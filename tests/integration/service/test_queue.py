"""The Redis task queue with real `posecoach worker` processes (Redis on 127.0.0.1:6379, a throwaway key
namespace per test): a job goes API -> Redis -> worker -> database; and a worker SIGKILLed mid-job loses
nothing: the other worker takes the job over when its lease runs out, and the result is stored once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from posecoach.service import Settings, create_app
from posecoach.service.db import Database, Job, Result, new_id
from tests.conftest import data_file
from tests.integration.service.conftest import Api, _server_db

REDIS_URL = os.environ.get("POSECOACH_TEST_REDIS", "redis://127.0.0.1:6379/0")


class Cluster:
    """An API (in this process, only enqueuing) and `posecoach worker` processes sharing one database, one
    storage folder and one Redis namespace."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        namespace = f"posecoach-test-{new_id()[:12]}"
        self.env = {**os.environ, "POSECOACH_DATA_DIR": str(tmp), "POSECOACH_DATABASE_URL": db_url,
                    "POSECOACH_REDIS_URL": REDIS_URL, "POSECOACH_REDIS_NAMESPACE": namespace,
                    "POSECOACH_JOB_LEASE_S": "3", "POSECOACH_JOB_HEARTBEAT_S": "0.5", "POSECOACH_POSE_MODEL": "lite"}
        self.settings = Settings(data_dir=tmp, database_url=db_url, redis_url=REDIS_URL, redis_namespace=namespace,
                                 job_lease_s=3, job_heartbeat_s=0.5)
        self.tmp, self.namespace = tmp, namespace
        self.workers: list[subprocess.Popen[bytes]] = []
        self.client = TestClient(create_app(self.settings))
        self.client.__enter__()
        self.db: Database = self.client.app.state.db  # type: ignore[attr-defined]
        self.api = Api(self.client, {"me": self.db.create_user("me")[1]})

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"worker{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "posecoach", "worker", "--threads", "1"], env=self.env,
                                stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def job(self, job_id: str) -> Job:
        with self.db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            return job

    def wait(self, job_id: str, until: Any, timeout: float) -> Job:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self.job(job_id)
            if until(job):
                return job
            assert all(w.poll() is None or w.returncode == -signal.SIGKILL for w in self.workers), self.logs()
            time.sleep(0.1)
        pytest.fail(f"job {job_id} never reached the expected state: {self.job(job_id).__dict__}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("worker*.log")))

    def results(self, job_id: str) -> list[str]:
        """The kinds of the job's stored results, one entry per row."""
        with self.db.session() as s:
            return sorted(s.scalars(select(Result.kind).where(Result.job_id == job_id)).all())

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.client.__exit__(None, None, None)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{self.namespace}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(tmp_path, f"sqlite:///{tmp_path / 'service.db'}")
    yield made
    made.close()


def test_a_job_goes_through_redis_to_a_worker_process(cluster: Cluster, small_video: bytes) -> None:
    api = cluster.api
    assert api.call("GET", "/ready", None).json()["jobs"] is True
    video_id = api.upload(small_video, who="me").json()["id"]
    job_id = api.call("POST", "/v1/jobs", "me", json={"video_id": video_id, "exercise": "squat"}).json()["id"]
    time.sleep(0.5)
    assert cluster.job(job_id).state == "queued"  # serve only enqueues: no worker, no progress
    worker = cluster.start_worker()
    job = cluster.wait(job_id, lambda j: j.state in ("done", "failed"), timeout=60)
    assert (job.state, job.attempts, job.error) == ("done", 1, None), cluster.logs()
    assert job.worker is not None and f":{worker.pid}:" in job.worker  # the worker process ran it
    kinds = cluster.results(job_id)
    assert "report" in kinds and len(kinds) == len(set(kinds)), kinds  # every result stored, each once
    report = api.call("GET", f"/v1/jobs/{job_id}/report", "me").json()
    assert report["exercise"]["name"] == "squat" and report["input"]["frames"] == 6
    worker.send_signal(signal.SIGTERM)  # a clean stop
    assert worker.wait(30) == 0


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def two_worker_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    urls = iter([f"sqlite:///{tmp_path / 's.db'}"]) if request.param == "sqlite" else _server_db(request.param)
    url = next(urls)
    made = Cluster(tmp_path, url)
    try:
        yield made
    finally:
        made.close()
        made.db.close()
        next(urls, None)  # drops the server database


@pytest.mark.slow
@pytest.mark.video
def test_a_worker_sigkilled_mid_job_loses_nothing(two_worker_cluster: Cluster) -> None:
    cluster = two_worker_cluster
    clip = data_file("form/kaiakol/data/plank/correct/plank_correct_001.mp4")  # 77 frames, 2.6 s
    workers = [cluster.start_worker(), cluster.start_worker()]
    video_id = cluster.api.upload(clip.read_bytes(), who="me", name=clip.name).json()["id"]
    job_id = cluster.api.call("POST", "/v1/jobs", "me", json={"video_id": video_id}).json()["id"]
    running = cluster.wait(job_id, lambda j: j.state == "running" and j.worker and j.progress > 0, timeout=120)
    victim = next(w for w in workers if f":{w.pid}:" in str(running.worker))
    survivor = next(w for w in workers if w is not victim)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL
    job = cluster.wait(job_id, lambda j: j.state in ("done", "failed"), timeout=240)
    assert (job.state, job.attempts, job.error) == ("done", 2, None), cluster.logs()
    assert f":{survivor.pid}:" in str(job.worker)  # the other worker finished it
    kinds = cluster.results(job_id)
    assert "report" in kinds and len(kinds) == len(set(kinds)), kinds  # every result stored, each once
    report = cluster.api.call("GET", f"/v1/jobs/{job_id}/report", "me").json()
    assert report["input"]["frames"] == 77


def test_a_worker_without_a_redis_url_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from posecoach.cli.app import main

    monkeypatch.setenv("POSECOACH_DATA_DIR", str(tmp_path))
    for name in ("POSECOACH_REDIS_URL", "POSECOACH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["worker"]) == 1
    assert "POSECOACH_REDIS_URL" in capsys.readouterr().err
