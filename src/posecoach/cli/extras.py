"""The optional `[service]` extra: `posecoach serve`, `worker`, `users` and `keys` import the service (FastAPI,
SQLAlchemy, Dramatiq, ...) only inside the commands, so the core install runs the analysis commands; without the
extra those commands end with one line saying how to install it (`app.main` turns the missing module into it)."""

from __future__ import annotations

# Top-level modules of the [service] extra (pyproject.toml) and of what they bring (starlette, botocore).
SERVICE_MODULES = frozenset({
    "alembic", "argon2", "boto3", "botocore", "dramatiq", "fastapi", "fastapi_offline", "psycopg", "pydantic_settings",
    "pymysql", "pyotp", "redis", "reportlab", "sqlalchemy", "starlette", "uvicorn", "websockets",
})
SERVICE_HINT = "the service needs the [service] extra: pip install 'posecoach[service]'"


def missing_service_module(exc: BaseException) -> str | None:
    """The module ``exc`` failed to import when it is one the [service] extra installs, else None."""
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in SERVICE_MODULES:
        return exc.name
    return None
