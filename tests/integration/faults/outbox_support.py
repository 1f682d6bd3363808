"""What the fault tests share: people imported with a referent, the outbox's rows, a job
context built from settings of the test's own (short provider timeouts), and Twilio's signed
status callback posted the way Twilio posts it."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.twilio_server import TwilioServer
from twilio.request_validator import RequestValidator

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey
from rdv_spie.settings import Settings
from rdv_spie.worker.context import build_context
from rdv_spie.worker.inprocess import InProcessRunner

REFERENT_EMAIL = "referent0@test.test"  # the scenario's first referent (slug "test")


async def import_people(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, count: int
) -> tuple[sc.Scenario, list[intake.Person]]:
    """A territory, a cohort and ``count`` people imported, all followed by the first
    referent (person 0: phone and e-mail, 1: phone only, 2: e-mail only, and so on)."""
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


async def rows(db: Database, clock: FrozenClock) -> list[Notification]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(await uow.session.scalars(select(Notification)))


def statuses(found: list[Notification], name: str = "invitation") -> Counter[str]:
    return Counter(f"{n.channel}:{n.status}" for n in found if n.name == name)


@asynccontextmanager
async def runner(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[InProcessRunner]:
    """The project's in-process worker, with transports built from ``settings``."""
    context = build_context(settings, clock, db=db)
    try:
        yield InProcessRunner(context, sweep_seconds=60)
    finally:
        db.on_due_notifications = None
        await context.aclose()


async def status_callback(
    client: httpx.AsyncClient, twilio: TwilioServer, sid: str, status: str, **extra: str
) -> None:
    """Post Twilio's signed status callback for the accepted message ``sid`` to the app."""
    url = twilio.message(sid).status_callback
    assert url is not None
    params = {**twilio.callback_params(sid, status), **extra}
    signature = RequestValidator(twilio.auth_token).compute_signature(url, params)
    r = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 204, r.text
