"""Unit of work: one session, one transaction; commits only when asked, never autocommits."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from rdv_spie.clock import Clock, SystemClock
from rdv_spie.db import calendar_version
from rdv_spie.db.engine import WRITE_OPTION, create_engine
from rdv_spie.settings import Settings

_log = structlog.get_logger(__name__)


class UnitOfWork:
    """The session a service works in, plus the locks a constraint cannot express."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.dialect = session.bind.dialect.name if session.bind is not None else "unknown"
        # Notifications written in this transaction and due now: handed to the job queue
        # after the commit (the sweeper finds them anyway if that hand-over is lost).
        self.due_notifications: list[uuid.UUID] = []

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL."""
        return self.dialect == "postgresql"

    async def lock(self, *keys: str) -> None:
        """Take transaction-scoped locks on ``keys`` (in the order of their ids, so two callers
        never deadlock).

        PostgreSQL: advisory locks released at commit/rollback. SQLite: a write transaction
        already holds the database write lock (BEGIN IMMEDIATE), so nothing more is needed.
        """
        if self.session.info.get(_READ_ONLY):  # outside a transaction, a lock holds nothing
            raise ReadOnlyUnitOfWork("a read unit of work takes no lock: open it with write=True")
        if not self.is_postgres or not keys:
            return
        ids = sorted({_lock_id(key) for key in keys})
        if len(ids) == 1:
            await self.session.execute(_LOCK_ONE, {"k": ids[0]})
        else:  # one round trip; rows come in the array's order, so the locks are taken in it
            await self.session.execute(_LOCK_MANY, {"ks": ids})


_LOCK_ONE = text("SELECT pg_advisory_xact_lock(:k)")
_LOCK_MANY = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ks AS bigint[])) WITH ORDINALITY AS t(k, n)"
    " ORDER BY n"
)


def _lock_id(key: str) -> int:
    # A stable signed 64-bit id from the key's text (two 32-bit CRCs).
    raw = key.encode()
    value = (zlib.crc32(raw) << 32) | zlib.crc32(raw[::-1])
    return value - (1 << 64) if value >= 1 << 63 else value


class UnitOfWorkSession(Session):
    """The session under every unit of work: what it writes moves the calendar counter."""


_READ_ONLY = "rdv_read_only"  # session.info: a read unit of work


class ReadOnlyUnitOfWork(RuntimeError):
    """A write attempted in a unit of work opened with ``write=False``."""


def _refuse_flush(session: Session, _context: object, _instances: object) -> None:
    if session.info.get(_READ_ONLY) and (
        session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    ):
        raise ReadOnlyUnitOfWork("a read unit of work cannot write: open it with write=True")


def _refuse_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_READ_ONLY) and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise ReadOnlyUnitOfWork("a read unit of work cannot write: open it with write=True")


def _watch_read_only(session_class: type[Session]) -> None:
    for name, listener in (("before_flush", _refuse_flush), ("do_orm_execute", _refuse_statement)):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


class Database:
    """Engine plus session factories for reading and for writing."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Every write that changes what slots or feeds show moves the calendar counter.
        calendar_version.watch(UnitOfWorkSession)
        # A read unit of work never writes (a write there raises), so on PostgreSQL it runs
        # without BEGIN and COMMIT: each statement sees the last commits, as it would in a
        # READ COMMITTED transaction, and a search costs two round trips less.
        _watch_read_only(UnitOfWorkSession)
        self.engine = engine
        # Set by the web process or the worker: wakes delivery of messages due now.
        self.on_due_notifications: Callable[[list[uuid.UUID]], Awaitable[None]] | None = None
        postgres = engine.dialect.name == "postgresql"
        self._read = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine,
            sync_session_class=UnitOfWorkSession,
            expire_on_commit=False,
            autoflush=True,
        )
        self._write = async_sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}),
            sync_session_class=UnitOfWorkSession,
            expire_on_commit=False,
            autoflush=True,
        )

    @asynccontextmanager
    async def unit_of_work(self, *, clock: Clock, write: bool = True) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; commit on normal exit, roll back on error."""
        factory = self._write if write else self._read
        async with factory() as session:
            session.info["clock"] = clock
            session.info[_READ_ONLY] = not write
            uow = UnitOfWork(session, clock)
            try:
                yield uow
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        if uow.due_notifications and self.on_due_notifications is not None:
            try:
                await self.on_due_notifications(uow.due_notifications)
            except Exception:  # the sweeper re-enqueues them: a lost wake-up only delays
                _log.warning("wake_up_failed", count=len(uow.due_notifications), exc_info=True)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def settings_clock(settings: Settings) -> Clock:
    """The real clock shifted by ``settings.clock_offset_days`` (the demo's days ahead): the
    web process, the worker and every command tell time the same way."""
    return SystemClock(timedelta(days=settings.clock_offset_days))


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[tuple[Database, Clock]]:
    """The database of ``settings`` and the clock of ``settings_clock``, for a command or a
    process; every pooled connection is closed on the way out."""
    db = Database(create_engine(settings))
    try:
        yield db, settings_clock(settings)
    finally:
        await db.dispose()
