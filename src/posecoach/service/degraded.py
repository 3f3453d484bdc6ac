"""Degraded mode: when the database (or the Redis queue) cannot be reached, every route answers 503 with the
reason (the Problem schema) and ``Retry-After``, never a 500 and a traceback.

* A request that reaches the database while it is down (connection refused, server gone, SQLite file that
  cannot be opened, a pool that waits too long, a deadlock) ends in SQLAlchemy's ``OperationalError`` /
  ``InterfaceError`` / ``TimeoutError`` or a connection-invalidated ``DBAPIError``: `install` turns them into
  503. Redis connection errors raised by a route are 503 too; creating a job never needs Redis (the outbox).
* The server starts with the database down: `Startup` migrates the schema and starts the job runner as soon as
  the database answers (a background retry every few seconds, and on the next request), and until then every
  route that needs the database answers 503. ``GET /ready`` says which part is down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)
RETRY_AFTER_S = 10
DATABASE_DOWN = "the database is unavailable; the service works again as soon as it is back (try again shortly)"
QUEUE_DOWN = "the job queue (Redis) is unavailable; try again shortly"


class DatabaseUnavailable(Exception):
    """The database has not answered since the server started (the schema is not checked yet): 503."""


def database_down(exc: BaseException) -> bool:
    """``exc`` says the database cannot be reached or cannot serve now (not a bug in a query)."""
    if isinstance(exc, DatabaseUnavailable | sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_down(exc):
        raise exc  # a real error: Starlette's 500
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return unavailable(DATABASE_DOWN)


async def _queue_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: queue unavailable: %s", request.method, request.url.path, exc)
    return unavailable(QUEUE_DOWN)


def install(app: FastAPI) -> None:
    """503 with a reason for the database and queue errors of any route."""
    for kind in (DatabaseUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                 sa_exc.DBAPIError):
        app.add_exception_handler(kind, _database_error)
    try:
        from redis import exceptions as redis_exc
    except ImportError:  # pragma: no cover - redis is a dependency of the queue
        return
    for kind in (redis_exc.ConnectionError, redis_exc.TimeoutError):
        app.add_exception_handler(kind, _queue_error)


class Startup:
    """What the server does once the database answers: migrate it, then start the job runner (``steps``).

    `try_now` runs the steps once (False while the database is down); `start` runs them now and, if the database
    is down, again every ``every`` seconds in a thread until they succeed."""

    def __init__(self, steps: Callable[[], None], every: float = 5.0) -> None:
        self.steps, self.every = steps, every
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_now(self) -> bool:
        if self.done.is_set():
            return True
        if not self._lock.acquire(blocking=False):
            return False  # another thread is trying right now
        try:
            if not self.done.is_set():
                self.steps()
                self.done.set()
                log.info("the database answers: schema migrated, job runner started")
        except Exception as exc:
            if not database_down(exc):
                raise
            log.warning("the database is unavailable (%s); serving 503 until it is back", exc)
        finally:
            self._lock.release()
        return self.done.is_set()

    def start(self) -> None:
        if self.try_now():
            return
        self._thread = threading.Thread(target=self._retry, name="posecoach-startup", daemon=True)
        self._thread.start()

    def _retry(self) -> None:
        while not self.done.is_set() and not self._stop.wait(self.every):
            self.try_now()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()


def require_database(state: Any) -> None:
    """Raise `DatabaseUnavailable` while the server has not reached its database since it started."""
    startup: Startup | None = getattr(state, "startup", None)
    if startup is not None and not startup.try_now():
        raise DatabaseUnavailable(DATABASE_DOWN)


class Gate:
    """ASGI middleware: while the server has not reached its database since it started, an API request
    (``/v1/...``) first tries to bring it up (`Startup.try_now`, off the event loop) and answers 503 if it cannot.
    Once up, it costs one flag check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        startup: Startup | None = getattr(getattr(scope.get("app"), "state", None), "startup", None)
        if (scope["type"] == "http" and startup is not None and not startup.done.is_set()
                and scope.get("path", "").startswith("/v1/") and not await to_thread.run_sync(startup.try_now)):
            await unavailable(DATABASE_DOWN)(scope, receive, send)
            return
        await self.app(scope, receive, send)
