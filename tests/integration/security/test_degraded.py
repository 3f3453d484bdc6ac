"""Degraded mode (issue 25): with the database unreachable, every keyed route answers 503 with the reason and
Retry-After (it answered 500 with a traceback), a server starts without its database and serves 503 until the
database is back, and then works without a restart. On PostgreSQL and MariaDB (a closed port), and SQLite (a
database file that cannot be opened)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from posecoach.service import Settings, create_app
from posecoach.service.db import Database
from tests.integration.service.conftest import Api, ApiFactory


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable(kind: str, tmp_path: Path) -> str:
    """A database URL that cannot be opened: a closed port, or an SQLite file under a path that is a file."""
    if kind == "sqlite":
        (tmp_path / "blocked").write_text("not a folder")
        return f"sqlite:///{tmp_path / 'blocked' / 'posecoach.db'}"
    driver = {"postgresql": "postgresql+psycopg://postgres", "mariadb": "mysql+pymysql://root"}[kind]
    return f"{driver}@127.0.0.1:{closed_port()}/test"


KEYED = [("GET", "/v1/me"), ("GET", "/v1/videos"), ("GET", "/v1/jobs"), ("GET", "/v1/history"),
         ("GET", "/v1/references"), ("GET", "/v1/care-links"), ("GET", "/v1/me/audit"),
         ("POST", "/v1/jobs"), ("DELETE", "/v1/videos/" + "0" * 32)]


def assert_unavailable(answer: object) -> None:
    assert answer.status_code == 503, answer.text  # type: ignore[attr-defined]
    assert "database is unavailable" in answer.json()["detail"]  # type: ignore[attr-defined]
    assert int(answer.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "Traceback" not in answer.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_database_down_after_start_answers_503(api_factory: ApiFactory, tmp_path: Path, kind: str) -> None:
    api: Api = api_factory()
    assert api.call("GET", "/v1/videos").status_code == 200
    app = api.client.app
    app.state.db = Database(unreachable(kind, tmp_path))  # type: ignore[attr-defined]  (the server went away)
    for method, url in KEYED:
        assert_unavailable(api.call(method, url, json={"video_id": "0" * 32} if method == "POST" else None))
    # the sign-in path too, and readiness says which part is down
    assert_unavailable(api.call("GET", "/v1/me", who=None, headers={"X-API-Key": "pc_wrong"}))
    ready = api.call("GET", "/ready", who=None)
    assert ready.status_code == 503 and ready.json()["database"] is False
    assert api.call("GET", "/health", who=None).status_code == 200


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_server_starts_without_its_database(tmp_path: Path, kind: str) -> None:
    settings = Settings(data_dir=tmp_path / "service", database_url=unreachable(kind, tmp_path),
                        job_executor="thread")
    with TestClient(create_app(settings)) as client:  # before: the start-up's migration raised
        for method, url in KEYED:
            assert_unavailable(client.request(method, url, headers={"X-API-Key": "pc_x"}))
        assert client.get("/ready").status_code == 503
        if kind == "sqlite":  # the database comes back: the next request migrates it, no restart needed
            (tmp_path / "blocked").unlink()
            (tmp_path / "blocked").mkdir()
            client.app.state.db.close()  # type: ignore[attr-defined]
            answer = client.get("/v1/me", headers={"X-API-Key": "pc_x"})
            assert answer.status_code == 401, answer.text
            db: Database = client.app.state.db  # type: ignore[attr-defined]
            _, key = db.create_user("alice")
            assert client.get("/v1/videos", headers={"X-API-Key": key}).json() == []
            assert client.get("/ready").json()["database"] is True
