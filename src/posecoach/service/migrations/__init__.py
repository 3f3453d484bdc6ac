"""Alembic migrations of the service's database, shipped in the package and applied on start-up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def config(engine: Engine | None = None) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database of ``engine`` to ``revision`` (idempotent: a current database is left as it is)."""
    from alembic import command

    with engine.begin() as connection:
        cfg = config(engine)
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(cfg, revision)  # type: ignore[arg-type]


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with engine.begin() as connection:
        cfg = config(engine)
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.downgrade(cfg, revision)  # type: ignore[arg-type]


def drop_columns(table: str, columns: tuple[str, ...]) -> None:
    """Drop plain columns inside a migration. On SQLite with ``ALTER TABLE ... DROP COLUMN`` (3.35+): Alembic's
    batch mode would copy the table and drop the old one, and dropping a table with foreign keys on deletes every
    row that refers to it (dropping ``jobs`` emptied ``results``)."""
    import sqlalchemy as sa
    from alembic import op

    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        return
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.drop_column(column)
