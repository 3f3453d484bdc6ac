"""Alembic environment: runs on the connection `posecoach.service.migrations.upgrade` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from posecoach.service.db import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: connect from the URL in the config
    with create_engine(context.config.get_main_option("sqlalchemy.url") or "").begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()
