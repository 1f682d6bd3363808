"""Engines for the two databases: SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL, a busy timeout, foreign keys on, and a write transaction takes the write lock up
front (BEGIN IMMEDIATE) so two bookings never both read "free" and then both write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rdv_spie.settings import Settings

WRITE_OPTION = "rdv_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the async engine for ``settings.database_url``."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_pre_ping=False,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # No ping before each checkout (a round trip per request): after a restart of
        # PostgreSQL, the first statement on an old connection fails as a disconnect, which
        # answers 503 (web/errors.py) and makes the pool drop every older connection.
        pool_pre_ping=False,
        # Errors name the statement, never its values (people's names, addresses, tokens).
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_database_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked": another connection kept the write lock past
    the busy timeout (a large import). Nothing was written; the same work succeeds later."""
    if not isinstance(exc, OperationalError):
        return False
    name = str(getattr(exc.orig, "sqlite_errorname", ""))
    return name.startswith("SQLITE_BUSY") or "database is locked" in str(exc.orig)
