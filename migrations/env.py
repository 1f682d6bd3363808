"""Alembic environment: async engines for SQLite and PostgreSQL, models from rdv_spie.models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from rdv_spie.db.engine import create_engine
from rdv_spie.models import Base
from rdv_spie.settings import Settings

config = context.config
target_metadata = Base.metadata


def _sqlite_pragma(connection: Connection, statement: str) -> list[tuple[object, ...]]:
    """Run a PRAGMA on the driver connection, outside any transaction (SQLite ignores
    ``foreign_keys`` inside one)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on, the
        # drop would first delete the rows that cascade from it (an appointment's agents).
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        _migrate(connection)
    finally:
        if sqlite:
            _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")
    if sqlite and (broken := _sqlite_pragma(connection, "PRAGMA foreign_key_check")):
        raise RuntimeError(f"the migration left {len(broken)} rows whose references are broken")


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    settings = config.attributes.get("settings") or Settings(
        database_url=config.get_main_option("sqlalchemy.url")
    )
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run them against a database")
asyncio.run(_run_async())
