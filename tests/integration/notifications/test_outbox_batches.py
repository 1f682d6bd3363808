"""The outbox's batched paths, on both engines: messages written many at a time (duplicate keys
left out), SMS marked handed by their claim and unmarked when they are not sent after all,
and outcomes recorded together, each only by the claim that owns its row."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database, ReadOnlyUnitOfWork
from rdv_spie.invitations import service as planner
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey, Person
from rdv_spie.worker.context import JobContext


async def _planned(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, jobs: JobContext, count: int
) -> sc.Scenario:
    """``count`` people imported (by i % 3: both channels, phone only, e-mail only), invited."""
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(intake.people(count)),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == count, r.text
    await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
    return s


async def _rows(db: Database, clock: FrozenClock) -> dict[uuid.UUID, Notification]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return {n.id: n for n in await uow.session.scalars(select(Notification))}


async def _journeys(db: Database, clock: FrozenClock) -> dict[uuid.UUID, Journey]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return {j.id: j for j in await uow.session.scalars(select(Journey))}


async def test_add_many_leaves_out_keys_already_written_and_repeated(
    db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)

    def message(key: str, due_in: timedelta) -> outbox.Message:
        return outbox.Message(
            territory_id=s.territory_id,
            name="animator_no_slots_alert",
            channel="email",
            key=key,
            not_before=clock.now() + due_in,
            agent_id=s.animator_id,
            params={"n": key},
        )

    async with db.unit_of_work(clock=clock) as uow:
        first = await outbox.add_many(uow, [message("a", timedelta()), message("b", timedelta())])
        assert len(first) == 2 and uow.due_notifications == first
    async with db.unit_of_work(clock=clock) as uow:
        later = timedelta(hours=1)
        again = await outbox.add_many(
            uow, [message("a", later), message("c", later), message("c", later)]
        )
        assert len(again) == 1 and uow.due_notifications == []  # c, not due yet
        assert await outbox.add_many(uow, []) == []
    rows = await _rows(db, clock)
    assert sorted(n.idempotency_key for n in rows.values()) == ["a", "b", "c"]
    c = next(n for n in rows.values() if n.idempotency_key == "c")
    assert (c.id, c.status, c.attempts, c.params) == (again[0], "pending", 0, {"n": "c"})
    assert c.not_before == clock.now() + later and c.created_at == clock.now()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        with pytest.raises(ReadOnlyUnitOfWork):
            await outbox.add_many(uow, [message("d", timedelta())])


async def test_sent_recorded_together_only_by_the_claim_that_owns_each_row(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, jobs: JobContext
) -> None:
    await _planned(client, db, clock, jobs, 6)  # 8 invitations: 4 SMS, 4 e-mails
    due = [i for i, _ in await outbox.due(db, clock=clock)]
    async with db.unit_of_work(clock=clock) as uow:
        claimed = await outbox.claim_rows(uow, due, hand_sms=True)
    assert len(claimed) == 8
    for n in claimed.values():  # the claim marks the SMS handed, not the e-mails
        assert (n.handed_at is not None) == (n.channel == "sms")
    sms = sorted((n for n in claimed.values() if n.channel == "sms"), key=lambda n: n.id.hex)
    emails = sorted((n for n in claimed.values() if n.channel == "email"), key=lambda n: n.id.hex)
    called_back, moved_on, owned, email = *sms[:3], emails[0]
    callback_at = clock.now() - timedelta(seconds=1)
    async with db.unit_of_work(clock=clock) as uow:
        # A status callback got there first; another claim took the second row.
        await uow.session.execute(
            update(Notification)
            .where(Notification.id == called_back.id)
            .values(status="delivered", sent_at=callback_at, provider_id="SMcallback")
        )
        await uow.session.execute(
            update(Notification)
            .where(Notification.id == moved_on.id)
            .values(attempts=Notification.attempts + 1)
        )
        await uow.session.execute(  # a journey invited earlier keeps its time
            update(Journey).where(Journey.id == email.journey_id).values(invited_at=callback_at)
        )
    clock.advance(timedelta(seconds=5))
    async with db.unit_of_work(clock=clock) as uow:
        recorded = await outbox.record_sent(
            uow, [(n, f"id-{i}") for i, n in enumerate((called_back, moved_on, owned, email))]
        )
    assert recorded == {owned.id, email.id}
    rows = await _rows(db, clock)
    assert (rows[called_back.id].status, rows[called_back.id].sent_at) == (
        "delivered",
        callback_at,
    )
    assert rows[called_back.id].provider_id == "SMcallback"
    assert (rows[moved_on.id].status, rows[moved_on.id].sent_at) == ("sending", clock.now())
    assert rows[moved_on.id].provider_id is None
    for n, provider_id in ((owned, "id-2"), (email, "id-3")):
        row = rows[n.id]
        assert (row.status, row.provider_id, row.sent_at) == ("sent", provider_id, clock.now())
        assert row.lease_until is None and row.updated_at == clock.now()
    journeys = await _journeys(db, clock)
    assert journeys[email.journey_id].invited_at == callback_at
    for n in (called_back, moved_on, owned):
        assert journeys[n.journey_id].invited_at is not None
    assert {j.invited_at for j in journeys.values()} <= {clock.now(), callback_at, None}
    for n in (*sms[3:], *emails[1:]):  # not in the batch: still sending
        assert rows[n.id].status == "sending" and rows[n.id].sent_at is None


async def test_sms_claimed_but_not_sent_is_not_left_handed(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    """The claim marks every SMS handed; one skipped (consent withdrawn) or that cannot be
    composed is recorded unhanded in the same transaction, the others leave marked."""
    await _planned(client, db, clock, jobs, 6)  # 4 SMS (people 0, 1, 3, 4), 4 e-mails
    rows = await _rows(db, clock)
    sms = sorted((n for n in rows.values() if n.channel == "sms"), key=lambda n: n.id.hex)
    skipped, broken = sms[0], sms[1]
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Person).where(Person.id == skipped.person_id).values(sms_consent=False)
        )
        await uow.session.execute(
            update(Notification).where(Notification.id == broken.id).values(name="no_such")
        )
    due = [i for i, _ in await outbox.due(db, clock=clock)]
    outcomes = await asyncio.gather(*(jobs.deliverer.deliver(i) for i in due))
    assert sorted(outcomes) == ["cancelled", "retry"] + ["sent"] * 6
    rows = await _rows(db, clock)
    assert (rows[skipped.id].status, rows[skipped.id].handed_at) == ("cancelled", None)
    assert (rows[broken.id].status, rows[broken.id].handed_at) == ("pending", None)
    assert rows[broken.id].error_code == "compose_error"
    for n in rows.values():
        if n.status == "sent":
            assert (n.handed_at is not None) == (n.channel == "sms")
            assert n.sent_at == clock.now() and n.provider_id and n.lease_until is None
    assert len(twilio.messages) == 2
    journeys = await _journeys(db, clock)
    invited = {n.journey_id for n in rows.values() if n.status == "sent"}
    assert {j.id for j in journeys.values() if j.invited_at is not None} == invited


async def test_sent_recorded_and_next_claims_taken_in_one_go(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, jobs: JobContext
) -> None:
    """``record_sent_then_claim``: what was sent is recorded as ``record_sent`` does and the
    next messages are claimed, SMS marked handed; a row sent by an old claim but back to
    pending (its lease ran out) and claimed again in the same go is claimed, its sent_at
    noted (it left once)."""
    await _planned(client, db, clock, jobs, 6)  # 8 invitations: 4 SMS, 4 e-mails
    due = sorted((i for i, _ in await outbox.due(db, clock=clock)), key=lambda i: i.hex)
    first, rest = due[:4], due[4:]
    async with db.unit_of_work(clock=clock) as uow:
        claimed = await outbox.claim_rows(uow, first, hand_sms=True)
    sent, lost = list(claimed.values())[:3], list(claimed.values())[3]
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    async with db.unit_of_work(clock=clock) as uow:  # the recovery's doing for the last one
        await uow.session.execute(
            update(Notification)
            .where(Notification.id == lost.id)
            .values(status="pending", lease_until=None, handed_at=None, not_before=clock.now())
        )
    async with db.unit_of_work(clock=clock) as uow:
        accepted = [(n, f"id-{n.id.hex[:6]}") for n in (*sent, lost)]
        again = await outbox.record_sent_then_claim(uow, accepted, [*rest, lost.id])
    assert set(again) == {*rest, lost.id}
    for n in again.values():
        assert n.status == "sending" and n.lease_until == clock.now() + outbox.LEASE
        assert (n.handed_at == clock.now()) == (n.channel == "sms")
        assert n.attempts == (2 if n.id == lost.id else 1)
        assert n.sent_at == (clock.now() if n.id == lost.id else None)
    rows = await _rows(db, clock)
    for n, provider_id in accepted[:3]:
        row = rows[n.id]
        assert (row.status, row.provider_id, row.sent_at) == ("sent", provider_id, clock.now())
    assert (rows[lost.id].status, rows[lost.id].sent_at) == ("sending", clock.now())
    journeys = await _journeys(db, clock)
    for n in (*sent, lost):
        assert journeys[n.journey_id].invited_at == clock.now()
    async with db.unit_of_work(clock=clock) as uow:  # nothing sent: claims alone
        assert await outbox.record_sent_then_claim(uow, [], [*rest, lost.id]) == {}
