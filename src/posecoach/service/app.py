"""The FastAPI application factory: settings -> database (migrated), storage (local or S3), job runner
(in-process pool, or the Redis queue with ``POSECOACH_REDIS_URL``), routes, and the web app at ``/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from posecoach.core.version import __version__
from posecoach.service import alerts_outbox, degraded, docs, lifecycle, openapi
from posecoach.service.account_routes import router as account_router
from posecoach.service.alerts_routes import router as alerts_router
from posecoach.service.catalogue_routes import router as catalogue_router
from posecoach.service.db import Database
from posecoach.service.jobs import LocalRunner
from posecoach.service.library_routes import router as library_router
from posecoach.service.lifecycle_routes import router as lifecycle_router
from posecoach.service.live import router as live_router
from posecoach.service.live_routes import router as live_sessions_router
from posecoach.service.migrations import upgrade
from posecoach.service.posture_routes import router as posture_router
from posecoach.service.programmes_routes import router as programmes_router
from posecoach.service.results_routes import router as results_router
from posecoach.service.routes import router
from posecoach.service.security import SecurityMiddleware
from posecoach.service.settings import Settings
from posecoach.service.storage import open_storage
from posecoach.service.text_guard import TextGuard
from posecoach.web import routes as web

if TYPE_CHECKING:
    from posecoach.service.queue import QueueRunner


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready-to-serve app; start-up migrates the database and re-queues unfinished jobs."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.resolved_database_url())
        storage = open_storage(settings)
        storage.ensure()
        runner: LocalRunner | QueueRunner = LocalRunner(settings, db)
        if settings.redis_url:  # serve only enqueues; `posecoach worker` processes run the jobs
            from posecoach.service.queue import QueueRunner

            runner = QueueRunner(settings, db)
        app.state.settings, app.state.db, app.state.storage, app.state.runner = settings, db, storage, runner

        def bring_up() -> None:  # once the database answers (now, or later: degraded mode until then)
            upgrade(db.engine)
            runner.start()

        app.state.startup = startup = degraded.Startup(bring_up)
        startup.start()
        sweeper = lifecycle.Sweeper(settings, db, storage, startup.done)  # orphans, temp files, retention
        sweeper.start()
        alert_outbox = alerts_outbox.Deliverer(db, settings.outbox_interval_s, startup.done,
                                               settings.alert_webhook_allow_private)  # webhooks
        alert_outbox.start()
        try:
            yield
        finally:
            startup.stop()
            sweeper.stop()
            alert_outbox.stop()
            runner.close()
            db.close()

    app = FastAPI(title="PoseCoach", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Upload movement videos, run analyses as background jobs, fetch the reports.")
    app.include_router(router)
    app.include_router(account_router)
    app.include_router(results_router)
    app.include_router(live_sessions_router)
    app.include_router(alerts_router)
    app.include_router(lifecycle_router)
    app.include_router(library_router)
    app.include_router(posture_router)
    app.include_router(programmes_router)
    app.include_router(catalogue_router)
    app.include_router(web.router)
    app.include_router(live_router)
    app.mount("/static", web.static_files(), name="static")
    openapi.install(app)
    docs.install(app)  # /docs from local files; no /redoc
    degraded.install(app)  # database or queue down: 503 with the reason and Retry-After
    app.add_middleware(TextGuard)  # NUL, unpaired surrogates, control characters: 422 before any route
    app.add_middleware(degraded.Gate)  # a server started without its database: 503 until it answers
    # security headers and the cross-origin check around everything, the 500 page of Starlette's error middleware too
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityMiddleware(build(), settings.trusted_origins)  # type: ignore[method-assign]
    return app
