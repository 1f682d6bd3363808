"""SQLite's writers of one process queue in arrival order before BEGIN IMMEDIATE
(db/engine._Writers), on a real database file: they never reach SQLite's busy handler, a
writer that waits past the busy timeout fails as SQLite would ("database is locked"), and a
failed or rolled-back transaction gives its turn back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from rdv_spie.clock import FrozenClock
from rdv_spie.db import engine as engines
from rdv_spie.db.engine import create_engine, is_database_busy
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Any:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3"))

    # Without the queue, a second writer would meet SQLite's lock and fail at once.
    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    db = Database(engine)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
    yield db
    await db.dispose()


def _clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 1, 8, tzinfo=UTC))


async def _write(db: Database, n: int, *, hold: float = 0.005, fail: bool = False) -> None:
    async with db.unit_of_work(clock=_clock()) as uow:
        await uow.session.execute(text("INSERT INTO tally (n) VALUES (:n)"), {"n": n})
        await asyncio.sleep(hold)  # other writers arrive while this one holds the lock
        if fail:
            raise RuntimeError("the service refused")


async def _count(db: Database) -> int:
    async with db.unit_of_work(clock=_clock(), write=False) as uow:
        return int((await uow.session.execute(text("SELECT count(*) FROM tally"))).scalar_one())


async def test_concurrent_writers_queue_instead_of_failing(sqlite_db: Database) -> None:
    await asyncio.gather(*(_write(sqlite_db, n) for n in range(30)))
    assert await _count(sqlite_db) == 30


async def test_a_failed_writer_gives_its_turn_back(sqlite_db: Database) -> None:
    results = await asyncio.gather(
        *(_write(sqlite_db, n, fail=n % 3 == 0) for n in range(12)), return_exceptions=True
    )
    assert sum(isinstance(r, RuntimeError) for r in results) == 4
    assert await _count(sqlite_db) == 8  # nothing of the failed ones was written
    await _write(sqlite_db, 99)  # and the queue is free again
    assert await _count(sqlite_db) == 9


async def test_waiting_past_the_busy_timeout_fails_as_sqlite_would(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 100)
    holder = asyncio.create_task(_write(sqlite_db, 1, hold=0.5))
    await asyncio.sleep(0.05)
    with pytest.raises(OperationalError) as caught:
        await _write(sqlite_db, 2)
    assert is_database_busy(caught.value)
    await holder
    assert await _count(sqlite_db) == 1
    await _write(sqlite_db, 3)  # the queue was not left taken
    assert await _count(sqlite_db) == 2


async def test_reads_do_not_queue_behind_a_writer(sqlite_db: Database) -> None:
    holder = asyncio.create_task(_write(sqlite_db, 1, hold=1.0))
    await asyncio.sleep(0.05)
    assert await _count(sqlite_db) == 0  # WAL: the reader sees the last commit, at once
    assert not holder.done()
    await holder
