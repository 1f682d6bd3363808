"""1,000 messages through two real ``rdv-spie worker`` processes while one of them is killed
with SIGKILL (issue 18, item 1), on PostgreSQL, a redis-server of the test's own and the
loopback SMTP server: every message arrives, each person once, except the few the dead worker
had on the wire, which are sent again with the same Message-ID once their lease runs out, and
counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import SmtpServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey
from rdv_spie.settings import Settings
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow
COUNT = 1_000


async def statuses(db: Database, clock: FrozenClock) -> Counter[str]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        )
        return Counter({status: n for status, n in rows})


def worker_process(
    settings: Settings, redis_url: str, clock: FrozenClock
) -> subprocess.Popen[bytes]:
    offset = (clock.now() - datetime.now(UTC)).total_seconds() / 86400
    env = {
        **os.environ,
        **{
            f"RDV_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v)
            for k, v in settings.model_dump().items()
            if v is not None and k != "debug"
        },
        "RDV_REDIS_URL": redis_url,
        "RDV_CLOCK_OFFSET_DAYS": repr(offset),
        "RDV_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "rdv_spie.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    people = [
        replace(p, phone=None, email=f"personne{i}@exemple.fr")
        for i, p in enumerate(intake.people(COUNT))
    ]
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(people),
        headers={**s.auth(), "Content-Type": "text/csv"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == COUNT, r.text
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(Journey).values(referent_id=s.referent_ids[0]))
    await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
    assert await statuses(db, clock) == {"pending": COUNT}

    # Each message waits a moment at the server once sent, before its answer: a worker killed
    # then has messages on the wire that the server takes anyway (they go out twice).
    smtp.delay_next(0.02, at="DATA", times=2 * COUNT)
    began = time.monotonic()
    with RedisServer(tmp_path) as redis:
        first = worker_process(flow_settings, redis.url, clock)
        second = worker_process(flow_settings, redis.url, clock)
        try:
            deadline = time.monotonic() + 60
            while len(smtp.messages) < COUNT // 4:  # a quarter sent: kill one mid-run
                assert time.monotonic() < deadline, f"too slow: {len(smtp.messages)} sent"
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait()
            at_kill = await statuses(db, clock)
            while True:  # the survivor sends the rest; the dead one's claims stay "sending"
                now = await statuses(db, clock)
                if now["pending"] == 0 and now["sent"] + now["sending"] == COUNT:
                    await asyncio.sleep(0.5)
                    if await statuses(db, clock) == now:
                        break
                assert time.monotonic() < deadline, f"the survivor stalled: {now}"
                await asyncio.sleep(0.1)
        finally:
            for process in (first, second):
                process.kill()
                process.wait()
    orphans = now["sending"]

    # Their lease runs out; the sweep takes them again and sends them once more.
    clock.advance(outbox.LEASE + outbox.LEASE)
    await InProcessRunner(jobs, sweep_seconds=60).run_once(plan=False)
    assert await statuses(db, clock) == {"sent": COUNT}
    elapsed = time.monotonic() - began

    ids = Counter(m.message["Message-ID"] for m in smtp.messages)
    recipients = {m.rcpt_tos[0] for m in smtp.messages}
    resent = sum(n - 1 for n in ids.values())
    print(
        f"{COUNT} messages, 2 workers, one killed with {at_kill['sent']} sent and "
        f"{orphans} claimed by it; {resent} sent again with their Message-ID; {elapsed:.1f} s"
    )
    assert orphans > 0  # the kill caught the worker with messages in hand
    assert len(recipients) == COUNT and len(ids) == COUNT  # none lost, one Message-ID each
    assert resent <= orphans  # only what the dead worker had claimed went out twice
    async with db.unit_of_work(clock=clock, write=False) as uow:
        tried_again = await uow.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.attempts > 1)
        )
    assert tried_again == orphans  # each resend is counted on its row
