"""What the planner writes, on both engines: one invitation per journey and channel with its
token stored hashed, one message per invitation, nothing twice on a rerun; journeys waiting
for slots stamped once and cleared when they are invited (Core statements, not the ORM)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.invitations.messages import ANIMATOR_NO_SLOTS_ALERT, INVITATION
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications import tokens
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey

KEY = b"k" * 40


async def _import(client: httpx.AsyncClient, s: sc.Scenario, count: int) -> None:
    cohort = await intake.create_cohort(client, s)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(intake.people(count)),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == count, r.text


async def _rows(db: Database, clock: FrozenClock) -> tuple[list[Invitation], list[Notification]]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        invitations = list(await uow.session.scalars(select(Invitation)))
        messages = list(await uow.session.scalars(select(Notification)))
        return invitations, messages


async def test_each_journey_and_channel_invited_once_with_its_token_hashed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    await _import(client, s, 6)  # by i % 3: both channels, phone only, e-mail only
    report = await planner.plan(db=db, clock=clock, secret_key=KEY)
    invitations, messages = await _rows(db, clock)
    assert report.invited == 6 and report.waiting == 0
    assert len({(i.journey_id, i.channel) for i in invitations}) == len(invitations)
    assert sorted(i.channel for i in invitations) == ["email"] * 4 + ["sms"] * 4
    for invitation in invitations:  # the token is derived, never stored: only its hash
        assert invitation.token_hash == tokens.hash_token(tokens.derive(KEY, invitation.id))
        assert invitation.created_at == invitation.updated_at == clock.now()
        assert invitation.expires_at > clock.now()
        assert invitation.opened_at is None and invitation.revoked_at is None
    sent = [m for m in messages if m.name == INVITATION]
    assert sorted((m.invitation_id, m.channel) for m in sent) == sorted(
        (i.id, i.channel) for i in invitations
    )
    by_invitation = {i.id: i for i in invitations}
    for m in sent:
        assert m.journey_id == by_invitation[m.invitation_id].journey_id
        assert m.idempotency_key == f"{INVITATION}:{m.invitation_id}"
        assert (m.status, m.attempts, m.params) == ("pending", 0, {})

    again = await planner.plan(db=db, clock=clock, secret_key=KEY)
    assert again.invited == 0
    after_invitations, after_messages = await _rows(db, clock)
    assert {i.id for i in after_invitations} == {i.id for i in invitations}
    assert {m.id for m in after_messages} == {m.id for m in messages}


async def test_waiting_journeys_are_stamped_once_then_cleared_when_invited(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    await _import(client, s, 3)
    yesterday = (clock.now() - timedelta(days=1)).date()
    async with db.unit_of_work(clock=clock) as uow:  # a deadline gone: no slot before it
        await uow.session.execute(update(Journey).values(appointment_by_on=yesterday))
    first = await planner.plan(db=db, clock=clock, secret_key=KEY)
    assert (first.invited, first.waiting, first.no_slot_alerts) == (0, 3, 1)
    stamped = clock.now()

    clock.advance(timedelta(hours=2))  # still waiting: the first stamp stays
    second = await planner.plan(db=db, clock=clock, secret_key=KEY)
    assert (second.invited, second.waiting, second.no_slot_alerts) == (0, 3, 0)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journeys = list(await uow.session.scalars(select(Journey)))
    assert {j.waiting_for_slots_since for j in journeys} == {stamped}
    assert {j.updated_at for j in journeys} == {stamped}

    clock.advance(timedelta(hours=1))
    later = (clock.now() + timedelta(days=60)).date()
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(Journey).values(appointment_by_on=later))
    third = await planner.plan(db=db, clock=clock, secret_key=KEY)
    assert (third.invited, third.waiting) == (3, 0)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journeys = list(await uow.session.scalars(select(Journey)))
    assert {j.waiting_for_slots_since for j in journeys} == {None}
    assert {j.updated_at for j in journeys} == {clock.now()}
    _, messages = await _rows(db, clock)
    alerts = [m for m in messages if m.name == ANIMATOR_NO_SLOTS_ALERT]
    assert [(m.agent_id, m.params["waiting_count"]) for m in alerts] == [(s.animator_id, 3)]
    assert alerts[0].params["appointment_by_first"] == yesterday.isoformat()
