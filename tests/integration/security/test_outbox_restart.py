"""The job outbox across a real Redis restart (issue 25, point 5): a Redis server of the test's own
(``redis-server`` on a free port, nothing kept on disk) is stopped and started again empty, as a Redis without
persistence comes back after a crash. The job it held is handed to the new server once; nothing is lost."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from posecoach.service import Settings, outbox
from posecoach.service.db import Database
from posecoach.service.queue import QueueRunner
from tests.integration.security.test_degraded import closed_port
from tests.integration.security.test_outbox import queued_messages
from tests.integration.service.test_db import _video


class RedisServer:
    """``redis-server`` on ``port`` without persistence; `restart` stops it and starts an empty one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def run_id(self) -> str:
        client = redis.Redis(port=self.port)
        try:
            return str(client.info("server")["run_id"])
        finally:
            client.close()

    def messages(self, namespace: str) -> list[str]:
        """Job ids of the messages waiting in the namespace's queue."""
        return queued_messages(namespace, f"redis://127.0.0.1:{self.port}/0")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(closed_port())
    server.start()
    yield server
    server.stop()


def _until(condition: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_job_survives_a_real_redis_restart(tmp_path: Path, db: Database, redis_server: RedisServer) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
                        redis_namespace="posecoach-restart-test", outbox_interval_s=3600)
    runner = QueueRunner(settings, db)
    dispatcher = outbox.Dispatcher(db, runner.actor.send, 3600, runner.server_id)
    try:
        alice, _ = db.create_user("alice")
        job = db.add_job(alice, _video(db, alice), "pose", {})
        assert runner.submit(job.id)  # handed to the first Redis
        assert redis_server.messages(settings.redis_namespace) == [job.id]
        assert dispatcher.run_once() == 0  # nothing waiting; the dispatcher learns the server's run id
        first = redis_server.run_id()

        redis_server.restart()  # a Redis without persistence comes back empty: the message is gone
        assert redis_server.run_id() != first and redis_server.messages(settings.redis_namespace) == []

        assert _until(lambda: dispatcher.run_once() > 0), "the restarted Redis was never given the job"
        assert redis_server.messages(settings.redis_namespace) == [job.id]  # once, not twice
        assert dispatcher.run_once() == 0 and redis_server.messages(settings.redis_namespace) == [job.id]
    finally:
        runner.close()
