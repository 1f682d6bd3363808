"""Engines for the two databases: SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL, a busy timeout, foreign keys on, and a write transaction takes the write lock up
front (BEGIN IMMEDIATE) so two bookings never both read "free" and then both write. Within one
process, write transactions also queue in arrival order before their BEGIN IMMEDIATE
(``_Writers``): left to SQLite's busy handler, eight waiting writers slept and polled, and a
booking's p95 was 750 ms where the work takes 15.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_only, in_greenlet

from rdv_spie.db import sqlite_driver
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
            # Statements that cannot wait run on the loop's thread (sqlite_driver.py).
            module=sqlite_driver.dbapi(),
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


_HELD = "rdv_writer_lock"  # connection record info: the queue's lock this connection holds


class _Writers:
    """One SQLite write transaction at a time per process, in arrival order: a writer waits
    here, awake, instead of in SQLite's busy handler, which sleeps and polls. Writers of other
    processes still meet at SQLite's lock (busy timeout). Taken just before BEGIN IMMEDIATE,
    given back when the connection returns to the pool (after COMMIT or ROLLBACK); waiting
    longer than the busy timeout fails as SQLite would ("database is locked")."""

    def __init__(self) -> None:
        # asyncio locks belong to one event loop (tests run several, one after the other).
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def acquire(self, info: dict[Any, Any]) -> None:
        if not in_greenlet():  # a synchronous caller: SQLite's busy handler alone
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            await_only(asyncio.wait_for(lock.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000))
        except TimeoutError:
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("BEGIN IMMEDIATE", None, locked) from None
        info[_HELD] = lock

    @staticmethod
    def release(info: dict[Any, Any]) -> None:
        lock = info.pop(_HELD, None)
        if lock is not None and lock.locked():
            lock.release()


def _configure_sqlite(engine: AsyncEngine) -> None:
    writers = _Writers()

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Only where readers never wait for a writer may statements run on the loop's thread
        # (sqlite_driver.py); a database that refuses WAL (":memory:") stays off it.
        dbapi_connection.wal = str(cursor.fetchone()[0]).lower() == "wal"
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        # The pooled connection's info lasts until its next checkout, even if invalidated.
        info = conn.connection.info
        writers.acquire(info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.release(info)
            raise

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        writers.release(record.info)


def is_database_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked": another connection kept the write lock past
    the busy timeout (a large import). Nothing was written; the same work succeeds later."""
    if not isinstance(exc, OperationalError):
        return False
    name = str(getattr(exc.orig, "sqlite_errorname", ""))
    return name.startswith("SQLITE_BUSY") or "database is locked" in str(exc.orig)
