"""Service fixtures: throwaway databases on SQLite, PostgreSQL and MariaDB (the servers on 127.0.0.1 that
`.ci/run` starts), an app on SQLite with local storage, users with keys, and small videos made here."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from posecoach.io import VideoWriter
from posecoach.service import Settings, create_app
from posecoach.service.db import Database, new_id
from posecoach.service.migrations import upgrade

# Admin URLs of the servers (trust / passwordless root on loopback); override for another set-up.
SERVERS = {
    "postgresql": os.environ.get("POSECOACH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("POSECOACH_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/"),
}


def _server_db(kind: str) -> Iterator[str]:
    """Create a database on the server, yield its URL, drop it."""
    admin_url = SERVERS[kind]
    name = f"posecoach_test_{new_id()[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        admin.dispose()
        pytest.fail(f"the {kind} server is not reachable at {admin_url} (`.ci/run` starts it): {exc}")
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}" + ("?charset=utf8mb4" if kind == "mariadb" else "")
    try:
        yield url
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if kind == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _server_db(request.param)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    upgrade(database.engine)
    yield database
    database.close()


def make_video(path: Path, frames: int = 6, size: tuple[int, int] = (96, 64), fps: float = 10.0) -> Path:
    """A small real H.264 mp4 of moving noise (no person in it)."""
    rng = np.random.default_rng(frames)
    with VideoWriter(path, fps) as writer:
        for _ in range(frames):
            writer.write(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    return path


class Api:
    """A TestClient with helpers; ``key`` picks whose API key a call sends."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def call(self, method: str, url: str, who: str | None = "alice", headers: dict[str, str] | None = None,
             **kw: Any) -> Any:
        sent = {"X-API-Key": self.keys[who]} if who else {}
        return self.client.request(method, url, headers={**sent, **(headers or {})}, **kw)

    def upload(self, data: bytes, who: str = "alice", name: str = "clip.mp4") -> Any:
        return self.call("POST", f"/v1/videos?filename={name}", who, content=data,
                         headers={"Content-Type": "video/mp4"})

    def wait(self, job_id: str, who: str = "alice", timeout: float = 120.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self.call("GET", f"/v1/jobs/{job_id}", who).json()
            if job["state"] in ("done", "failed"):
                return dict(job)
            time.sleep(0.1)
        pytest.fail(f"job {job_id} did not finish in {timeout} s")


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[ApiFactory]:
    """Start an app on SQLite in tmp_path (settings overridable) with users alice, bob (users), carol
    (clinician) and root (admin)."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        settings = Settings(**{"data_dir": tmp_path / "service", "job_executor": "thread", **overrides})
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        db: Database = client.app.state.db  # type: ignore[attr-defined]
        keys = {name: db.create_user(name, role)[1]
                for name, role in (("alice", "user"), ("bob", "user"), ("carol", "clinician"), ("root", "admin"))}
        return Api(client, keys)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(api_factory: ApiFactory) -> Api:
    return api_factory()


@pytest.fixture
def small_video(tmp_path: Path) -> bytes:
    return make_video(tmp_path / "small.mp4").read_bytes()
