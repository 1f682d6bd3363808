"""SQLite's driver adapter (db/sqlite_driver.py) on a real database file: statements run whole,
on the loop's thread when they cannot wait, and what may wait for another process's writer
(BEGIN IMMEDIATE, a write outside a write transaction) waits in the driver's thread while the
loop keeps serving. The other process is a plain sqlite3 connection on the same file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from rdv_spie.clock import FrozenClock
from rdv_spie.db import sqlite_driver
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings

HOLD = 0.4  # seconds the other process keeps the write lock


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/d.sqlite3"))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE tally (n INTEGER PRIMARY KEY, label TEXT)"))
        await conn.execute(text("INSERT INTO tally (n, label) VALUES (1, 'one'), (2, 'two')"))
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine: AsyncEngine) -> Database:
    return Database(engine)


@pytest.fixture
def other(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection: holds the write lock with a row not yet committed."""
    connection = sqlite3.connect(tmp_path / "d.sqlite3", isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO tally (n, label) VALUES (3, 'three')")
    yield connection
    connection.close()


def _clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 1, 8, tzinfo=UTC))


async def _ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many 10 ms ticks the loop ran while ``work`` was under way."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.01)
        ticks += 1
    await work
    return ticks


async def _labels(db: Database) -> list[str]:
    async with db.unit_of_work(clock=_clock(), write=False) as uow:
        rows = await uow.session.execute(text("SELECT label FROM tally ORDER BY n"))
        return list(rows.scalars())


async def test_a_writer_waits_for_another_process_without_stopping_the_loop(
    db: Database, other: sqlite3.Connection
) -> None:
    asyncio.get_running_loop().call_later(HOLD, other.commit)  # only runs if the loop runs

    async def write() -> None:
        async with db.unit_of_work(clock=_clock()) as uow:
            await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (4, 'four')"))

    ticks = await _ticks_while(asyncio.ensure_future(write()))
    assert ticks >= HOLD / 0.01 * 0.5  # the loop kept turning during the wait
    assert await _labels(db) == ["one", "two", "three", "four"]


async def test_a_write_outside_a_write_transaction_waits_off_the_loop(
    engine: AsyncEngine, db: Database, other: sqlite3.Connection
) -> None:
    asyncio.get_running_loop().call_later(HOLD, other.commit)

    async def write() -> None:  # plain BEGIN: the UPDATE takes the write lock itself
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE tally SET label = 'uno' WHERE n = 1"))

    ticks = await _ticks_while(asyncio.ensure_future(write()))
    assert ticks >= HOLD / 0.01 * 0.5
    assert await _labels(db) == ["uno", "two", "three"]


async def test_reads_during_another_process_write_see_the_last_commit(
    db: Database, other: sqlite3.Connection
) -> None:
    assert await _labels(db) == ["one", "two"]  # WAL: nothing to wait for, "three" not seen
    other.commit()
    assert await _labels(db) == ["one", "two", "three"]


async def test_statements_leave_their_outcome(db: Database) -> None:
    async with db.unit_of_work(clock=_clock()) as uow:  # inside the write lock: on the loop
        session = uow.session
        updated = await session.execute(text("UPDATE tally SET label = upper(label)"))
        assert updated.rowcount == 2  # type: ignore[attr-defined]
        inserted = await session.execute(text("INSERT INTO tally (label) VALUES ('auto')"))
        assert inserted.lastrowid == 3  # type: ignore[attr-defined]
        many = await session.execute(
            text("INSERT INTO tally (n, label) VALUES (:n, :label)"),
            [{"n": 10, "label": "ten"}, {"n": 11, "label": "eleven"}],
        )
        assert many.rowcount == 2  # type: ignore[attr-defined]
        rows = await session.execute(text("SELECT n, label AS name FROM tally WHERE n > 2"))
        assert list(rows.keys()) == ["n", "name"]
        assert [tuple(r) for r in rows] == [(3, "auto"), (10, "ten"), (11, "eleven")]
    assert await _labels(db) == ["ONE", "TWO", "auto", "ten", "eleven"]


async def test_errors_are_sqlalchemys_and_a_failed_writer_leaves_nothing(db: Database) -> None:
    async def twice() -> None:
        async with db.unit_of_work(clock=_clock()) as uow:
            await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (5, 'five')"))
            await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (1, 'again')"))

    with pytest.raises(IntegrityError):
        await twice()
    assert await _labels(db) == ["one", "two"]
    async with db.unit_of_work(clock=_clock()) as uow:  # the connection serves again
        await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (5, 'five')"))
    assert await _labels(db) == ["one", "two", "five"]


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls sent to a driver's thread, by name."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(args[1] if fn in (sqlite_driver._run, sqlite_driver._run_many) else fn.__name__)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_read_stays_on_the_loop_and_a_write_leaves_it_twice(
    db: Database, trips: list[str]
) -> None:
    assert await _labels(db) == ["one", "two"]  # the pool's connection is open now
    trips.clear()
    assert await _labels(db) == ["one", "two"]
    assert trips == []
    async with db.unit_of_work(clock=_clock()) as uow:
        await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (3, 'three')"))
        await uow.session.execute(text("SELECT count(*) FROM tally"))
    assert trips == ["BEGIN IMMEDIATE", "commit"]


async def test_without_wal_everything_goes_to_the_drivers_thread(trips: list[str]) -> None:
    engine = create_engine(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    try:
        async with engine.connect() as conn:
            trips.clear()
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
            await conn.commit()
        assert "SELECT 1" in trips and "commit" in trips
    finally:
        await engine.dispose()


async def test_a_savepoint_under_the_write_lock_rolls_back_alone(db: Database) -> None:
    async with db.unit_of_work(clock=_clock()) as uow:
        session = uow.session
        await session.execute(text("INSERT INTO tally (n, label) VALUES (3, 'three')"))

        async def inner() -> None:
            async with session.begin_nested():
                await session.execute(text("INSERT INTO tally (n, label) VALUES (4, 'x')"))
                await session.execute(text("INSERT INTO tally (n, label) VALUES (1, 'x')"))

        with pytest.raises(IntegrityError):
            await inner()
        await uow.session.execute(text("INSERT INTO tally (n, label) VALUES (5, 'five')"))
    assert await _labels(db) == ["one", "two", "three", "five"]


async def test_a_transaction_sqlite_ends_itself_is_forgotten(engine: AsyncEngine) -> None:
    def scenario(sync_conn: Any) -> tuple[bool, bool]:
        adapted = sync_conn.connection.dbapi_connection
        cursor = adapted.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        held = adapted.holds_write_lock
        with pytest.raises(sqlite3.IntegrityError):  # SQLite rolls the transaction back
            cursor.execute("INSERT OR ROLLBACK INTO tally (n, label) VALUES (1, 'again')")
        return held, adapted.holds_write_lock or adapted.wrote

    async with engine.connect() as conn:
        held, still = await conn.run_sync(scenario)
    assert held and not still  # the next statement that may wait goes to the driver's thread
