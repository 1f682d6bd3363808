"""Two real ``rdv-spie worker`` processes on one PostgreSQL and one redis-server (issue 18
item 1, the worker half), no container engine: the shape of compose.yaml on loopback.

- 1,000 e-mails through the outbox and the loopback SMTP server while one worker is killed
  with SIGKILL mid-run: every person gets their message, 1,000 distinct Message-IDs arrive,
  no row is left unsent. What the dead worker had claimed waits for its lease; when the
  workers are started again after it, those are sent again with their Message-ID, and each
  such resend is counted on its row (``attempts``).
- Cron jobs run once per due time with two workers: the workers' own cron list
  (worker/settings.py) with the wall clock their schedule reads (the process's local time,
  ``TZ``) set so that the planner and the committees' freeze-and-dispatch (every 5 minutes),
  the outbox sweep, and the retention purge (04:22) fall due a few seconds after start. Runs
  are counted from both workers' own logs (arq's ``→ <job id>`` line, the job id being
  ``cron:<name>:<due time in ms>``).

PostgreSQL only: SQLite is the one-process laptop default. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import httpx
import pytest
from arq import create_pool
from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.loopback import _fresh_servers, app, flow_settings, jobs, smtp, twilio
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import SmtpServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification
from rdv_spie.people import imports
from rdv_spie.people.models import Cohort, ImportRun, ImportState, Journey
from rdv_spie.settings import Settings
from rdv_spie.web.auth import actor_of
from rdv_spie.worker import jobs as worker_jobs
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.queue import ArqQueue
from rdv_spie.worker.settings import QUEUE_NAME, worker_settings

__all__ = ["_fresh_servers", "app", "flow_settings", "jobs", "smtp", "twilio"]

pytestmark = pytest.mark.slow
MESSAGES = 1_000
KILL_AT = MESSAGES // 4  # e-mails received when the first worker is killed
SEND_DEADLINE_S = 60
HOLD_S, HELD_SENDS = 1.5, 40  # MAIL commands held at the kill, and for how long


@dataclass
class Worker:
    """One ``rdv-spie worker`` process and the file its log goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def sends(self) -> tuple[int, int]:
        """Send jobs it has started and finished (arq's ``→`` and ``←`` lines, at INFO)."""
        lines = self.lines()
        return sum("→ send:" in x for x in lines), sum("← send:" in x for x in lines)


@contextmanager
def workers(
    settings: Settings,
    redis_url: str,
    clock: FrozenClock,
    folder: Path,
    *,
    count: int = 2,
    ahead: timedelta = timedelta(0),
    tz: str | None = None,
) -> Iterator[list[Worker]]:
    """``count`` worker processes with the settings of the test. Their service clock is the
    test's frozen instant plus ``ahead``, moving with real time; ``tz`` is the local time their
    cron schedule reads. Killed on the way out, whatever happened."""
    offset = (clock.now() + ahead - datetime.now(UTC)).total_seconds() / 86400
    env = {
        **os.environ,
        **{
            f"RDV_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v)
            for k, v in settings.model_dump().items()
            if v is not None and k != "debug"
        },
        "RDV_REDIS_URL": redis_url,
        "RDV_CLOCK_OFFSET_DAYS": repr(offset),
        "RDV_LOG_LEVEL": "INFO",
    }
    if tz is not None:
        env["TZ"] = tz
    started: list[Worker] = []
    try:
        for _ in range(count):
            log = folder / f"worker-{len(list(folder.glob('worker-*.log')))}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "rdv_spie.cli", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Worker(process, log))
        yield started
    finally:
        for w in started:
            w.process.kill()
            w.process.wait()


async def _statuses(db: Database, clock: FrozenClock) -> Counter[str]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        )
        return Counter({str(status): n for status, n in rows})


async def _settled(db: Database, clock: FrozenClock, deadline: float) -> Counter[str]:
    """Wait until the survivor has sent all it can (the outbox unchanged for 2 s)."""
    last: Counter[str] = Counter()
    while True:
        now = await _statuses(db, clock)
        if now == last:
            return now
        assert time.monotonic() < deadline, f"the workers stalled: {now}"
        last = now
        await asyncio.sleep(2.0)


async def _pool(redis_url: str) -> ArqRedis:
    """A connection that queues jobs the way the web process does (the worker's JSON)."""
    options = worker_settings(Settings(redis_url=redis_url))
    return await create_pool(
        options["redis_settings"],
        job_serializer=options["job_serializer"],
        job_deserializer=options["job_deserializer"],
        default_queue_name=QUEUE_NAME,
    )


async def _plan(db: Database, clock: FrozenClock, jobs: JobContext, redis_url: str) -> None:
    """Plan the invitations; the planner hands what it commits to the queue, as in the web
    process and the worker."""
    pool = await _pool(redis_url)
    db.on_due_notifications = ArqQueue(pool, QUEUE_NAME).wake
    try:
        await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
    finally:
        db.on_due_notifications = None
        await pool.aclose()


async def _import(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, count: int
) -> list[intake.Person]:
    """A territory, a cohort and ``count`` people with an e-mail address only."""
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    people = [replace(p, phone=None, email=f"personne{i}@exemple.fr")
              for i, p in enumerate(intake.people(count))]  # fmt: skip
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(people),
        headers={**s.auth(), "Content-Type": "text/csv"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == count, r.text
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(Journey).values(referent_id=s.referent_ids[0]))
    return people


async def test_a_thousand_messages_through_two_workers_one_killed(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    flow_settings: Settings,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several worker processes share PostgreSQL in production")
    people = await _import(client, db, clock, MESSAGES)

    with RedisServer(tmp_path) as redis:
        await _plan(db, clock, jobs, redis.url)
        assert await _statuses(db, clock) == {"pending": MESSAGES}

        began = time.monotonic()
        deadline = began + SEND_DEADLINE_S
        with workers(flow_settings, redis.url, clock, tmp_path) as (first, second):
            # Killed mid-run: a quarter has arrived, both have sent, and the first has sends
            # in flight. Delivery is fast enough to go idle between two arq polls, so the
            # SMTP server holds the next messages' MAIL command for a while: their claims are
            # committed, their sends wait, and the kill catches them.
            while True:
                (_, done), (_, other) = first.sends(), second.sends()
                if len(smtp.messages) >= KILL_AT and min(done, other) >= 10:
                    break
                assert time.monotonic() < deadline, f"too slow: {len(smtp.messages)} sent"
                assert first.process.poll() is None and second.process.poll() is None
                await asyncio.sleep(0.02)
            smtp.delay_next(HOLD_S, at="MAIL", times=HELD_SENDS)
            await asyncio.sleep(HOLD_S / 2)  # more than arq's poll: both workers are held
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
            at_kill = len(smtp.messages)
            # The survivor sends the rest. What the dead one had claimed stays "sending" until
            # its lease runs out; what it had taken from the queue but not claimed yet stays
            # "pending", its job held by arq for an hour (the sweep's overdue round frees it).
            await _settled(db, clock, deadline)
            assert second.process.poll() is None
            second.process.send_signal(signal.SIGTERM)  # idle by now: stops cleanly
            second.process.wait(timeout=20)
        # With no worker left, what the dead one left behind (whatever the survivor did).
        survived = await _statuses(db, clock)
        sent_by_then = len(smtp.messages)
        orphans, held = survived["sending"], survived["pending"]
        assert survived["sent"] + orphans + held == MESSAGES, survived
        assert orphans + held > 0  # the kill caught sends in flight

        # Started again once the dead worker's lease has run out: their start-up sweep puts
        # the orphans back and sends them, with the Message-ID they had, and the held ones.
        later = outbox.LEASE + timedelta(minutes=1)
        with workers(flow_settings, redis.url, clock, tmp_path, ahead=later):
            while (final := await _statuses(db, clock)) != {"sent": MESSAGES}:
                assert time.monotonic() < deadline, f"the orphans were not sent: {final}"
                await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began

    received = smtp.messages
    ids = Counter(str(m.message["Message-ID"]) for m in received)
    by_id = {str(m.message["Message-ID"]): m.rcpt_tos for m in received}
    resent = len(received) - len(ids)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.attempts, func.count()).group_by(Notification.attempts)
        )
        attempts = Counter({int(tries): n for tries, n in rows})
    print(
        f"\n{MESSAGES} e-mails, 2 workers, one killed -9 at {at_kill} received "
        f"({orphans} claimed by it, left sending, {held} taken from the queue, left pending); "
        f"{sent_by_then} received before the restart; "
        f"{resent} sent again with their Message-ID; {elapsed:.1f} s"
    )
    assert len(ids) == MESSAGES  # one Message-ID per message, none lost
    assert {m.rcpt_tos[0] for m in received} == {p.email for p in people}
    assert all(len(set(by_id[i])) == 1 for i in ids)  # a Message-ID always to one person
    # Only what the dead worker had claimed was taken again, once, and each retry is counted.
    assert attempts == Counter({1: MESSAGES - orphans, 2: orphans})  # orphans may be 0
    assert 0 <= resent <= orphans
    assert all(n <= 2 for n in ids.values())


async def test_a_send_job_held_by_a_dead_worker_does_not_hold_its_message(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    flow_settings: Settings,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    """A worker killed after taking a send job, before it claimed the message: arq keeps that
    job marked in progress for an hour (the longest job timeout), so the job id the sweep
    would queue again is taken. The sweep gives an overdue message a job of its own."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several worker processes share PostgreSQL in production")
    await _import(client, db, clock, 1)
    with RedisServer(tmp_path) as redis:
        await _plan(db, clock, jobs, redis.url)
        async with db.unit_of_work(clock=clock, write=False) as uow:
            row = (await uow.session.scalars(select(Notification))).one()
        held = f"arq:in-progress:send:{row.id}:0"
        pool = await _pool(redis.url)
        try:
            async with db.engine.connect() as lock:
                # The row is locked: the worker takes the job, then waits on its claim.
                await lock.execute(
                    select(Notification.id).where(Notification.id == row.id).with_for_update()
                )
                with workers(flow_settings, redis.url, clock, tmp_path, count=1) as (doomed,):
                    deadline = time.monotonic() + 30
                    while not await pool.exists(held):
                        assert time.monotonic() < deadline, doomed.lines()[-20:]
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.3)
                    doomed.process.send_signal(signal.SIGKILL)
                    doomed.process.wait()
                await lock.rollback()
            await asyncio.sleep(0.5)
            assert await _statuses(db, clock) == {"pending": 1} and not smtp.messages
            assert await pool.pttl(held) > 3_000_000  # held for the hour

            # A worker started after the message was due for longer than OVERDUE sends it.
            later = worker_jobs.OVERDUE + timedelta(minutes=1)
            with workers(flow_settings, redis.url, clock, tmp_path, count=1, ahead=later):
                deadline = time.monotonic() + 30
                while await _statuses(db, clock) != {"sent": 1}:
                    assert time.monotonic() < deadline, await _statuses(db, clock)
                    await asyncio.sleep(0.1)
            assert await pool.exists(held)  # still held: the message went by another job
        finally:
            await pool.aclose()
    assert [m.rcpt_tos for m in smtp.messages] == [("personne0@exemple.fr",)]


async def test_an_import_held_by_a_dead_worker_resumes_within_minutes(
    db: Database, clock: FrozenClock, flow_settings: Settings, tmp_path: Path
) -> None:
    """The same for a confirmed import of people: the job a dead worker took is held for an
    hour by arq, the sweep's job of its round runs it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several worker processes share PostgreSQL in production")
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        cohort = Cohort(
            territory_id=s.territory_id, name="Jeunes", organisation_id=s.organisation_id
        )
        uow.session.add(cohort)
        await uow.session.flush()
        actor = await actor_of(uow, s.animator_id, office=True)
        run = await imports.preview(
            uow=uow, actor=actor, cohort_id=cohort.id, file_name="jeunes.csv",
            data=intake.csv_bytes(intake.people(30)), max_bytes=1 << 20,
        )  # fmt: skip
        await imports.confirm(uow=uow, actor=actor, import_id=run.id)
    held = f"arq:in-progress:import:{run.id}"
    with RedisServer(tmp_path) as redis:
        pool = await _pool(redis.url)
        try:
            await ArqQueue(pool, QUEUE_NAME).enqueue_import(run.id)  # what the web does
            async with db.engine.connect() as lock:
                await lock.execute(
                    select(ImportRun.id).where(ImportRun.id == run.id).with_for_update()
                )
                with workers(flow_settings, redis.url, clock, tmp_path, count=1) as (doomed,):
                    deadline = time.monotonic() + 30
                    while not await pool.exists(held):
                        assert time.monotonic() < deadline, doomed.lines()[-20:]
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.3)
                    doomed.process.send_signal(signal.SIGKILL)
                    doomed.process.wait()
                await lock.rollback()
            await asyncio.sleep(0.5)
            assert (await _import_run(db, clock, run.id)).state == ImportState.QUEUED
            assert await pool.pttl(held) > 3_000_000

            later = worker_jobs.OVERDUE + timedelta(minutes=1)
            with workers(flow_settings, redis.url, clock, tmp_path, count=1, ahead=later):
                deadline = time.monotonic() + 30
                while (done := await _import_run(db, clock, run.id)).state != ImportState.DONE:
                    assert time.monotonic() < deadline, done.state
                    await asyncio.sleep(0.1)
            assert await pool.exists(held)
        finally:
            await pool.aclose()
    assert done.processed_rows == 30 and done.created_count == 30


async def _import_run(db: Database, clock: FrozenClock, run_id: uuid.UUID) -> ImportRun:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = await uow.session.get(ImportRun, run_id)
        assert found is not None
        return found


# Cron jobs: the local time each phase's due time falls at (the workers' TZ), and the crons
# due then (worker/settings.py): the planner and the committees' freeze-and-dispatch every 5
# minutes, the outbox sweep at :00 and :30, the retention purge at 04:22.
PHASES = {
    wall(4, 20): {"plan_messages", "run_committees", "sweep_outbox"},
    wall(4, 22): {"purge_personal_data", "sweep_outbox"},
}
CRON_LEAD_S = 10  # from the workers' start to the due time: both are polling by then
CRON_AFTER_S = 2  # how long after it a second run would have shown up (arq's window: 1 s)
STARTED_RUNS = {"sweep_outbox", "sweep_imports", "plan_messages", "run_committees",
                "generate_cto_sessions"}  # run_at_startup: one run per worker start  # fmt: skip


def _posix_tz(local: wall, at: datetime) -> str:
    """A ``TZ`` value under which the UTC instant ``at`` is the local time ``local`` (POSIX
    counts hours west of Greenwich, hence the minus sign for an offset to the east)."""
    wanted = local.hour * 3600 + local.minute * 60 + local.second
    offset = (wanted - (at.hour * 3600 + at.minute * 60 + at.second)) % 86400
    return f"RDV-{offset // 3600:02d}:{offset % 3600 // 60:02d}:{offset % 60:02d}"


@dataclass
class CronPhase:
    """What two workers ran around one due time."""

    due_ms: dict[str, int]  # the job id's due time of each cron (arq adds its microsecond)
    expected: set[str]
    started: list[str]  # each worker's log, "→" lines only
    finished: list[str]
    result_ids: list[str]  # arq's kept results: cron:<name>:<due time in ms>

    def runs(self, name: str) -> int:
        return sum(line.endswith(f"→ cron:{name}()") or f"→ cron:{name}() " in line
                   for line in self.started)  # fmt: skip

    def ids(self, name: str) -> list[int]:
        prefix = f"cron:{name}:"
        return sorted(int(i.removeprefix(prefix)) for i in self.result_ids if i.startswith(prefix))


async def _cron_phase(
    settings: Settings, clock: FrozenClock, folder: Path, local: wall, expected: set[str]
) -> CronPhase:
    folder.mkdir()
    due = (datetime.now(UTC) + timedelta(seconds=CRON_LEAD_S)).replace(microsecond=0)
    due_ms = {
        c.name.removeprefix("cron:"): int(due.timestamp() * 1000) + c.microsecond // 1000
        for c in worker_settings(Settings(redis_url="redis://127.0.0.1:1/0"))["cron_jobs"]
    }
    with RedisServer(folder) as redis:
        pool = await _pool(redis.url)
        try:
            with workers(settings, redis.url, clock, folder, tz=_posix_tz(local, due)) as pair:
                deadline = due + timedelta(seconds=CRON_LEAD_S)
                wanted = {f"arq:result:cron:{name}:{due_ms[name]}" for name in expected}
                while not wanted <= {k.decode() for k in await pool.keys("arq:result:cron:*")}:
                    assert datetime.now(UTC) < deadline, [w.lines()[-10:] for w in pair]
                    assert all(w.process.poll() is None for w in pair)
                    await asyncio.sleep(0.2)
                await asyncio.sleep(CRON_AFTER_S)
                lines = [line for w in pair for line in w.lines()]
            keys = [k.decode().removeprefix("arq:result:") for k in await pool.keys("arq:result:*")]
        finally:
            await pool.aclose()
    return CronPhase(
        due_ms=due_ms,
        expected=expected,
        started=[line for line in lines if " → cron:" in line],
        finished=[line for line in lines if " ← cron:" in line and " ● " in line],
        result_ids=keys,
    )


async def test_two_workers_run_each_cron_once_per_due_time(
    db: Database, clock: FrozenClock, flow_settings: Settings, tmp_path: Path
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several worker processes share PostgreSQL in production")
    phases = await asyncio.gather(
        *(
            _cron_phase(flow_settings, clock, tmp_path / f"phase{i}", local, expected)
            for i, (local, expected) in enumerate(PHASES.items())
        )
    )
    report = []
    for phase in phases:
        names = {i.split(":")[1] for i in phase.result_ids if i.startswith("cron:")}
        assert phase.expected <= names, names
        for name in sorted(names):
            ids = phase.ids(name)
            due_ms = phase.due_ms[name]
            at_start = [ms for ms in ids if ms != due_ms]
            # Each job id ran once: as many runs in the two logs as due times in Redis.
            assert phase.runs(name) == len(ids), (name, ids, phase.started)
            # The due time ran once; every other run is a worker's start-up run, one each,
            # both before the due time's window opened (both workers were in the race). Two
            # workers starting within the same millisecond share one start-up job id, so
            # arq runs it once: one or two start-up runs, never more.
            assert ids.count(due_ms) == (1 if name in phase.expected else 0), (name, ids)
            started = len(at_start) in ((1, 2) if name in STARTED_RUNS else (0,))
            assert started, (name, ids)
            assert all(ms < due_ms - 1000 for ms in at_start), (name, ids, due_ms)
        assert len(phase.finished) == len(phase.started)  # every run finished without error
        report.append(f"{sorted(phase.expected)}: {len(phase.started)} runs")
    print("\ncron runs, two workers, one per due time: " + "; ".join(report))
