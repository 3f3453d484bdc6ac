"""The PoseCoach service: REST API (FastAPI), database (SQLAlchemy + Alembic), storage and background jobs.

Start it with ``posecoach serve``; configure it with ``POSECOACH_*`` environment variables (`Settings`).
"""

from posecoach.service.settings import Settings


def create_app(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """The FastAPI app; see `posecoach.service.app.create_app`."""
    from posecoach.service.app import create_app as _create_app

    return _create_app(settings)


__all__ = ["Settings", "create_app"]
