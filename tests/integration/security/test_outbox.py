"""The job outbox (issue 25) with a real Redis (127.0.0.1:6379, a throwaway namespace per test): with the queue
down, ``POST /v1/jobs`` records the job and answers 202 (it answered 500 after committing a row that stayed
``queued`` until a restart); once Redis is back the dispatcher hands every waiting job to it exactly once, even
with several dispatchers at once; and a Redis that restarted empty gets the queued jobs again."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from posecoach.service import Settings, create_app, outbox
from posecoach.service.db import QUEUED, Database, Job, new_id
from posecoach.service.queue import connect
from tests.integration.security.test_degraded import closed_port
from tests.integration.service.conftest import Api
from tests.integration.service.test_db import _video
from tests.integration.service.test_queue import REDIS_URL


def queued_messages(namespace: str, url: str = REDIS_URL) -> list[str]:
    """The job ids of the messages waiting in the namespace's Redis queue (Dramatiq keeps them in a hash)."""
    client = redis.Redis.from_url(url)
    try:
        return [json.loads(m)["args"][0] for m in client.hvals(f"{namespace}:jobs.msgs")]
    finally:
        client.close()


@pytest.fixture
def namespace() -> object:
    name = f"posecoach-test-{new_id()[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)
    client.close()


def test_job_is_recorded_while_redis_is_down_and_sent_once_when_it_is_back(
        tmp_path: Path, db_url: str, small_video: bytes, namespace: str) -> None:
    down = Settings(data_dir=tmp_path, database_url=db_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0",
                    redis_namespace=namespace, outbox_interval_s=3600)
    with TestClient(create_app(down)) as client:
        db: Database = client.app.state.db  # type: ignore[attr-defined]
        api = Api(client, {"alice": db.create_user("alice")[1]})
        video_id = api.upload(small_video).json()["id"]
        answer = api.call("POST", "/v1/jobs", json={"video_id": video_id, "kind": "pose"})
        assert answer.status_code == 202, answer.text  # before: 500, and the row stayed queued
        assert "queue is unavailable" in answer.headers["x-job-queue"]
        job_id = answer.json()["id"]
        assert api.call("GET", f"/v1/jobs/{job_id}").json()["state"] == QUEUED
        assert outbox.waiting(db) == [job_id]
        assert api.call("GET", "/ready").json()["jobs"] is False
    assert queued_messages(namespace) == []

    up = down.model_copy(update={"redis_url": REDIS_URL})
    broker, actor = connect(up)
    db = Database(db_url)
    sends: Counter[str] = Counter()

    def send(job_id: str) -> None:
        sends[job_id] += 1
        actor.send(job_id)

    try:
        # two dispatchers at once (serve and a worker): the job is handed over once
        workers = [threading.Thread(target=outbox.dispatch_waiting, args=(db, send)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert sends == Counter({job_id: 1})
        assert queued_messages(namespace) == [job_id]
        assert outbox.waiting(db) == [] and outbox.dispatch_waiting(db, send) == 0
        with db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None and job.state == QUEUED and job.dispatched_at is not None
    finally:
        broker.close()
        db.close()


def test_many_dispatchers_send_each_waiting_job_exactly_once(db: Database) -> None:
    alice, _ = db.create_user("alice")
    video = _video(db, alice)
    ids = {db.add_job(alice, video, "pose", {}).id for _ in range(20)}
    sent: list[str] = []
    lock = threading.Lock()

    def send(job_id: str) -> None:
        with lock:
            sent.append(job_id)

    threads = [threading.Thread(target=outbox.dispatch_waiting, args=(db, send)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == sorted(ids)  # each once, none lost


def test_a_failed_send_waits_in_the_outbox_and_a_retry_goes_back_to_it(db: Database) -> None:
    alice, _ = db.create_user("alice")
    job = db.add_job(alice, _video(db, alice), "pose", {})

    def down(job_id: str) -> None:
        raise redis.ConnectionError("Connection refused")

    assert not outbox.dispatch(db, down, job.id) and outbox.waiting(db) == [job.id]
    assert outbox.dispatch(db, lambda j: None, job.id) and outbox.waiting(db) == []
    assert not outbox.dispatch(db, lambda j: None, job.id)  # handed over already: not again
    assert db.claim(job.id, worker="w1")
    assert db.fail(job.id, "crash", retry=True, max_attempts=3) == QUEUED
    assert outbox.waiting(db) == [job.id]  # the retry is sent through the outbox again


def test_redis_restarted_empty_gets_the_queued_jobs_again(db: Database) -> None:
    alice, _ = db.create_user("alice")
    job = db.add_job(alice, _video(db, alice), "pose", {})
    sent: list[str] = []
    run_ids = iter(["run-1", "run-1", "run-2"])
    dispatcher = outbox.Dispatcher(db, sent.append, 3600, lambda: next(run_ids))
    assert dispatcher.run_once() == 1 and dispatcher.run_once() == 0
    assert dispatcher.run_once() == 1 and sent == [job.id, job.id]  # a new Redis: handed over again
