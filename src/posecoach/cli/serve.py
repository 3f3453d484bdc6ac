"""`posecoach serve`: the REST API with its database, storage and job pool.

Zero configuration: SQLite and local storage under ``POSECOACH_DATA_DIR``, jobs in processes of the server.
It makes no account and prints no secret: with no account yet it says how to make the first admin
(`posecoach users add NAME --role admin`, in `posecoach.cli.accounts`).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from posecoach.errors import InputError

out = Console(highlight=False, soft_wrap=True)


def _database():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from posecoach.service.db import Database
    from posecoach.service.migrations import upgrade
    from posecoach.service.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"bad setting POSECOACH_{str(first['loc'][0]).upper()}: {first['msg']}") from None
    try:
        db = Database(settings.resolved_database_url())
        upgrade(db.engine)
    except Exception as exc:
        raise InputError(f"cannot open the database {settings.resolved_database_url()}: "
                         f"{' '.join(str(exc).split())[:300]}") from None
    return settings, db


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the PoseCoach service: web app (at /), REST API (docs at /docs), database, storage and background jobs."""
    import uvicorn

    from posecoach.service.app import create_app

    settings, db = _database()
    try:
        if db.count_users() == 0:
            out.print("no accounts yet: make the first admin with `posecoach users add NAME --role admin` "
                      "(same settings; it asks for a password)")
    finally:
        db.close()
    out.print(f"PoseCoach on http://{host}:{port}: web app at /, API docs at /docs; data in {settings.data_dir}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", ws="websockets-sansio")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
