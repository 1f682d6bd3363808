"""Delivery through the outbox under faults, with real components: the arq worker in burst
mode on a real redis-server, the loopback SMTP server and the fake Twilio API.

After each fault: no message lost, none sent twice (apart from the documented Twilio-unknown
window, settled by the status callback), statuses right.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import select, text, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer
from twilio.request_validator import RequestValidator

from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.logging import configure_logging
from rdv_spie.notifications import compose
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey
from rdv_spie.settings import Settings
from rdv_spie.worker import jobs as worker_jobs
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner
from rdv_spie.worker.queue import ArqQueue
from rdv_spie.worker.settings import QUEUE_NAME, worker_settings

pytestmark = pytest.mark.slow


async def _setup(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, count: int
) -> tuple[sc.Scenario, list[intake.Person]]:
    """A territory, a cohort and ``count`` people imported (journeys with a referent)."""
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    people = intake.people(count)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(people),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == count, r.text
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(Journey).values(referent_id=s.referent_ids[0]))
    return s, people


async def _rows(db: Database, clock: FrozenClock) -> list[Notification]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(await uow.session.scalars(select(Notification)))


def _statuses(rows: list[Notification], name: str = "invitation") -> Counter[str]:
    return Counter(f"{n.channel}:{n.status}" for n in rows if n.name == name)


async def _run_worker(settings: Settings, clock: FrozenClock, db: Database) -> Worker:
    options = worker_settings(settings, clock=clock, db=db)
    worker = Worker(**options, burst=True, handle_signals=False, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        db.on_due_notifications = None
    return worker


async def test_arq_worker_sends_each_message_once_even_after_a_redis_restart(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
    tmp_path: Path,
) -> None:
    await _setup(client, db, clock, 6)  # 4 phones, 4 e-mails
    with RedisServer(tmp_path) as redis:
        settings = flow_settings.model_copy(update={"redis_url": redis.url})
        await _run_worker(settings, clock, db)  # cron at start-up: plan, then sweep, then send
        assert len(twilio.messages) == 4 and len(smtp.messages) == 4
        assert _statuses(await _rows(db, clock)) == {"sms:sent": 4, "email:sent": 4}

        # Jobs queued in Redis, then Redis restarts and loses them: the sweeper finds the rows.
        clock.advance(timedelta(days=3))
        from arq import create_pool

        from rdv_spie.worker.settings import redis_settings

        pool = await create_pool(redis_settings(settings), default_queue_name=QUEUE_NAME)
        db.on_due_notifications = ArqQueue(pool, QUEUE_NAME).wake
        from rdv_spie.invitations import service as planner

        await planner.plan(db=db, clock=clock, secret_key=b"unused-for-reminders")
        db.on_due_notifications = None
        assert await pool.zcard(QUEUE_NAME) == 8  # one reminder per channel, queued
        # Jobs carry ids only: nothing in Redis names, reaches or links to a person.
        dump = b""
        for key in await pool.keys("*"):
            if await pool.type(key) == b"string":
                dump += key + (await pool.get(key) or b"")
            else:
                dump += key + b"".join(await pool.zrange(key, 0, -1))
        assert b"send_notification" in dump
        for marker in (b"@exemple.fr", b"+33", b"/i/", b"Nom", b"06 "):
            assert marker not in dump
        await pool.aclose()
        redis.restart()
        await _run_worker(settings, clock, db)

    rows = await _rows(db, clock)
    assert _statuses(rows, "invitation_reminder") == {"sms:sent": 4, "email:sent": 4}
    assert len(twilio.messages) == 8 and len(smtp.messages) == 8
    assert len({(m.to, m.body) for m in twilio.messages}) == 8


async def test_smtp_outage_and_refusals(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    s, _ = await _setup(client, db, clock, 6)
    runner = InProcessRunner(jobs, sweep_seconds=60)

    smtp.stop()  # down: every e-mail waits, the SMS leave
    await runner.run_once()
    rows = await _rows(db, clock)
    assert _statuses(rows) == {"sms:sent": 4, "email:pending": 4}
    assert {n.error_code for n in rows if n.channel == "email"} == {"connection"}
    assert all(n.attempts == 1 and n.not_before > clock.now() for n in rows if n.channel == "email")

    smtp.start()  # back: 450 once (try later), 550 once (refused for good)
    smtp.reply_next(450, at="RCPT")
    smtp.reply_next(550, at="RCPT")
    clock.advance(timedelta(minutes=5))
    await runner.run_once()
    clock.advance(timedelta(minutes=10))
    await runner.run_once()
    rows = await _rows(db, clock)
    assert _statuses(rows) == {"sms:sent": 4, "email:sent": 3, "email:failed": 1}
    failed = next(n for n in rows if n.status == "failed" and n.name == "invitation")
    assert failed.error_code == "smtp_550"
    # The referent hears about it, once; the e-mails that left, left once each.
    alerts = [n for n in rows if n.name == "delivery_failed_alert"]
    assert len(alerts) == 1 and alerts[0].agent_id == s.referent_ids[0]
    # The alert names the person: one line in the audit trail.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        trail = (await uow.session.execute(select(FileRead.agent_id, FileRead.person_id))).all()
    assert [tuple(t) for t in trail] == [(s.referent_ids[0], failed.person_id)]
    invitations = [m for m in smtp.messages if m.rcpt_tos[0] != f"referent0@{'test'}.test"]
    assert len(invitations) == 3 and len({m.rcpt_tos[0] for m in invitations}) == 3

    clock.advance(timedelta(hours=2))
    await runner.run_once()
    assert len([m for m in smtp.messages if m.rcpt_tos[0] != "referent0@test.test"]) == 3


async def test_twilio_errors(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    await _setup(client, db, clock, 6)
    runner = InProcessRunner(jobs, sweep_seconds=60)
    twilio.fail_next(429)  # busy: retried
    twilio.fail_next(500)  # maybe sent: never re-sent blindly
    twilio.fail_next(400, code=21211)  # invalid number: failed
    await runner.run_once()
    for _ in range(3):
        clock.advance(timedelta(minutes=30))
        await runner.run_once()
    rows = await _rows(db, clock)
    sms = {n.status: n for n in rows if n.channel == "sms" and n.name == "invitation"}
    assert _statuses(rows)["sms:sent"] == 2  # the one retried after 429, and one clean
    assert sms["unknown"].error_code == "twilio_500"
    assert sms["failed"].error_code == "twilio_21211"
    assert len(twilio.messages) == 2  # the fake recorded only what it accepted

    # Six hours without a callback: the unknown one is shown as failed, still never re-sent.
    clock.advance(timedelta(hours=7))
    await runner.run_once()
    rows = await _rows(db, clock)
    unknown = next(n for n in rows if n.id == sms["unknown"].id)
    assert unknown.status == "failed" and unknown.error_code == "no_status_callback"
    assert len(twilio.messages) == 2


async def test_lost_leases_are_recovered(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    """Sends whose claims were never finished: the lease runs out, the e-mail goes again with
    the same Message-ID, the SMS waits for its callback (see the SIGKILL test below)."""
    await _setup(client, db, clock, 3)  # person 0: both channels, 1: phone, 2: e-mail
    # Simulate the kill: claim every due row the way a worker does, then never finish.
    from rdv_spie.notifications import outbox

    due = await outbox.due(db, clock=clock)
    assert due == []  # nothing planned yet
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once(plan=False)
    from rdv_spie.invitations import service as planner

    await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
    due = await outbox.due(db, clock=clock)
    assert len(due) == 4
    async with db.unit_of_work(clock=clock) as uow:
        claimed = await outbox.claim_rows(uow, [notification_id for notification_id, _ in due])
        assert sorted(n.attempts for n in claimed.values()) == [1, 1, 1, 1]
        # One SMS had been handed to Twilio when the process died: its outcome is unknown.
        handed = next(n for n in claimed.values() if n.channel == "sms")
        await outbox.mark_handed_rows(uow, [handed.id])
    rows = await _rows(db, clock)
    assert {n.status for n in rows} == {"sending"}

    clock.advance(outbox.LEASE + timedelta(seconds=1))
    await runner.run_once(plan=False)
    rows = await _rows(db, clock)
    assert _statuses(rows) == {"email:sent": 2, "sms:sent": 1, "sms:unknown": 1}
    assert next(n for n in rows if n.id == handed.id).status == "unknown"
    assert len(smtp.messages) == 2 and len(twilio.messages) == 1
    ids = {m.message["Message-ID"] for m in smtp.messages}
    assert ids == {f"<{n.id}@testserver.local>" for n in rows if n.channel == "email"}

    # Its callback settles it (it had left); nothing is sent again.
    url = f"http://testserver.local/webhooks/twilio/status?n={handed.id}"
    params = {
        "AccountSid": twilio.account_sid,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "MessageStatus": "delivered",
    }
    signature = RequestValidator(twilio.auth_token).compute_signature(url, params)
    r = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 204
    clock.advance(timedelta(hours=7))
    await runner.run_once(plan=False)
    rows = await _rows(db, clock)
    assert next(n for n in rows if n.id == handed.id).status == "delivered"
    assert _statuses(rows) == {"email:sent": 2, "sms:sent": 1, "sms:delivered": 1}
    assert len(twilio.messages) == 1 and len(smtp.messages) == 2


async def test_worker_killed_with_sigkill_mid_send(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
    tmp_path: Path,
) -> None:
    """A real ``rdv-spie worker`` process is killed while its sends hang at the providers."""
    await _setup(client, db, clock, 3)  # 2 SMS and 2 e-mails
    from rdv_spie.invitations import service as planner

    await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
    smtp.delay_next(8, at="RCPT", times=2)  # the e-mails hang before their data is sent
    twilio.delay_next(8, times=2)  # the SMS requests reach Twilio, which answers late

    with RedisServer(tmp_path) as redis:
        offset = (clock.now() - datetime.now(UTC)).total_seconds() / 86400
        env = {
            **os.environ,
            **{
                f"RDV_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v)
                for k, v in flow_settings.model_dump().items()
                if v is not None and k != "debug"
            },
            "RDV_REDIS_URL": redis.url,
            "RDV_CLOCK_OFFSET_DAYS": repr(offset),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "rdv_spie.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rows = await _rows(db, clock)
                claimed = [n for n in rows if n.status == "sending"]
                if len(claimed) == 4 and all(n.handed_at for n in claimed if n.channel == "sms"):
                    await asyncio.sleep(0.5)  # the SMS requests are on the wire
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"the worker did not claim: {_statuses(rows)}")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()

    assert _statuses(await _rows(db, clock)) == {"sms:sending": 2, "email:sending": 2}
    await asyncio.to_thread(twilio.wait_for, 2, 15.0)  # Twilio took both SMS after all
    clock.advance(outbox_lease() + timedelta(minutes=1))
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once(plan=False)
    rows = await _rows(db, clock)
    assert _statuses(rows) == {"sms:unknown": 2, "email:sent": 2}
    assert len(smtp.messages) == 2 and len({m.rcpt_tos[0] for m in smtp.messages}) == 2

    for message in twilio.messages:  # their callbacks settle them; nothing is sent again
        url = message.status_callback
        assert url is not None
        params = twilio.callback_params(message.sid, "delivered")
        signature = RequestValidator(twilio.auth_token).compute_signature(url, params)
        r = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert r.status_code == 204
    await runner.run_once(plan=False)
    assert _statuses(await _rows(db, clock)) == {"sms:delivered": 2, "email:sent": 2}
    assert len(twilio.messages) == 2 and len(smtp.messages) == 2


def outbox_lease() -> timedelta:
    from rdv_spie.notifications import outbox

    return outbox.LEASE


async def test_a_message_that_cannot_be_composed_fails_alone(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A template that cannot render, and a database error while composing (which aborts the
    batch's transaction), each put their own message back to pending with a backoff; the
    messages claimed in the same batches leave. Their tracebacks are logged without the
    addresses their frames held."""
    configure_logging()  # print to the stream captured now
    await _setup(client, db, clock, 6)
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await worker_jobs.plan_messages(runner.ctx)
    emails = sorted(
        (n for n in await _rows(db, clock) if n.name == "invitation" and n.channel == "email"),
        key=lambda n: str(n.id),
    )
    no_template, db_error = emails[0].id, emails[1].id
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Notification).where(Notification.id == no_template).values(name="no_such")
        )
    real = compose.compose

    async def failing(uow: UnitOfWork, n: Notification, *args: Any, **kwargs: Any) -> Any:
        if n.id == db_error:
            await uow.session.execute(text("SELECT * FROM no_such_table"))
        return await real(uow, n, *args, **kwargs)

    monkeypatch.setattr(compose, "compose", failing)
    await runner.run_once(plan=False)

    rows = {n.id: n for n in await _rows(db, clock)}
    for broken in (no_template, db_error):
        n = rows[broken]
        assert (n.status, n.error_code, n.attempts) == ("pending", "compose_error", 1)
        assert n.not_before > clock.now()
    invitations = [n for n in rows.values() if n.name == "invitation"]
    assert len(invitations) >= 6
    assert all(n.status == "sent" for n in invitations if n.id != db_error)
    assert len(smtp.messages) == len(emails) - 2
    out, err = capfd.readouterr()
    assert err.count("compose_failed") >= 2 and "no_such_table" in err
    assert "@exemple.fr" not in out + err and "Prénom" not in out + err
