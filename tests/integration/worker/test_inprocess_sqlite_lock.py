"""The embedded default (SQLite, no Redis) while something else holds the database's write
lock (a large import writing batch after batch): the in-process runner's jobs wait, or give
up quietly until the next pass, and nothing is lost."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from tests.support import intake
from tests.support import scenario as sc
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.logging import configure_logging
from rdv_spie.notifications.models import Notification
from rdv_spie.settings import Settings
from rdv_spie.worker import jobs
from rdv_spie.worker.context import build_context
from rdv_spie.worker.inprocess import InProcessRunner

# How long the runner's connections wait for the lock here (10 s in production): the lock
# is held longer than that, as a large import's batches do one after the other.
BUSY_TIMEOUT_MS = 200


@pytest.fixture
def sqlite_path(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's single write lock (PostgreSQL locks rows)")
    assert url.database
    return url.database


@pytest.fixture
async def impatient_db(flow_settings: Settings, sqlite_path: str) -> AsyncIterator[Database]:
    """The runner's own engine on the same file, with a short busy timeout."""
    engine = create_engine(flow_settings)

    @event.listens_for(engine.sync_engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    database = Database(engine)
    yield database
    await database.dispose()


@contextmanager
def write_lock_held(path: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def _count(db: Database, clock: FrozenClock) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_jobs_wait_for_an_import_and_run_on_the_next_pass(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    impatient_db: Database,
    sqlite_path: str,
    smtp: SmtpServer,
    twilio: TwilioServer,
    capfd: pytest.CaptureFixture[str],
) -> None:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    people = intake.people(6)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(people),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == 6, r.text
    context = build_context(flow_settings, clock, db=impatient_db)
    runner = InProcessRunner(context, sweep_seconds=60)
    configure_logging()  # print to the stream captured now
    capfd.readouterr()
    try:
        # Everything is locked out: the daily jobs, planning, the sweep.
        with write_lock_held(sqlite_path):
            await runner.tick()
            await runner.tick()
        _assert_quiet(capfd.readouterr(), most=2)
        assert await _count(db, clock) == 0  # nothing planned, nothing half-written

        # Planned, then locked out of sending (the loop drains the queue when woken).
        assert (await jobs.plan_messages(runner.ctx))["invited"] == 6
        assert not runner.queue.pending.empty()
        with write_lock_held(sqlite_path):
            assert await runner.drain() is False
        _assert_quiet(capfd.readouterr(), most=1)
        assert not twilio.messages and not smtp.messages

        # The lock released, the next tick does the rest, each message once.
        await runner.tick()
        with_phone = {p.e164 for p in people if p.phone}
        with_email = {p.email for p in people if p.email}
        assert sorted(m.to for m in twilio.messages) == sorted(with_phone)
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(with_email)
        _assert_quiet(capfd.readouterr(), most=0)
    finally:
        impatient_db.on_due_notifications = None
        await context.aclose()


def _assert_quiet(logged: pytest.CaptureResult[str], *, most: int) -> None:
    """No traceback, no error; at most ``most`` one-line warnings that the database was busy."""
    out = logged.out + logged.err
    assert "Traceback" not in out and "database is locked" not in out, out
    assert not re.search(r"\[(error|critical|exception)", out, re.IGNORECASE), out
    busy = [line for line in out.splitlines() if "inprocess_database_busy" in line]
    assert len(busy) <= most, out
    assert all("warning" in line for line in busy), out
