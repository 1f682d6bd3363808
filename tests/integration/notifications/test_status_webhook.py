"""Twilio status callbacks on both engines, after a real SMS left through the loopback fake:
signatures (missing, other token, altered form, other URL), monotonic statuses, duplicates,
undelivered with the referent's alert, and a message whose outcome was unknown."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from tests.support import intake
from tests.support import scenario as sc
from tests.support.twilio_server import TwilioServer
from twilio.request_validator import RequestValidator

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.transports.base import OutgoingSms, SmsTransport
from rdv_spie.notifications.transports.factory import Transports
from rdv_spie.people.models import Journey
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

PATH = "/webhooks/twilio/status"
ONE_PERSON = [intake.Person("Lefèvre", "Camille", "06 12 34 56 78", None)]


@dataclass
class Sent:
    """One invitation SMS that went through the fake (or not, for an unknown outcome)."""

    scenario: sc.Scenario
    notification_id: uuid.UUID
    journey_id: uuid.UUID
    sid: str | None  # the fake's Message SID, None when it recorded nothing

    @property
    def url(self) -> str:
        return f"http://testserver.local{PATH}?n={self.notification_id}"


async def _send(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
    *,
    referent: bool = False,
    fail_with: int | None = None,
) -> Sent:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(ONE_PERSON),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == 1, r.text
    async with db.unit_of_work(clock=clock) as uow:
        journey = (await uow.session.scalars(select(Journey))).one()
        journey_id = journey.id
        if referent:
            journey.referent_id = s.referent_ids[0]
    if fail_with is not None:
        twilio.fail_next(fail_with)
    await InProcessRunner(jobs, sweep_seconds=60).run_once()
    [n] = await _rows(db, clock, channel="sms")
    sid = None
    if fail_with is None:
        [message] = twilio.messages
        assert message.to == ONE_PERSON[0].e164
        assert message.status_callback == f"http://testserver.local{PATH}?n={n.id}"
        assert n.provider_id == message.sid
        sid = message.sid
    else:
        assert twilio.messages == []
    return Sent(s, n.id, journey_id, sid)


async def _rows(db: Database, clock: FrozenClock, **where: Any) -> list[Notification]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        stmt = select(Notification).order_by(Notification.created_at, Notification.name)
        for name, value in where.items():
            stmt = stmt.where(getattr(Notification, name) == value)
        rows = list(await uow.session.scalars(stmt))
        uow.session.expunge_all()
        return rows


async def _row(db: Database, clock: FrozenClock, notification_id: uuid.UUID) -> Notification:
    [n] = await _rows(db, clock, id=notification_id)
    return n


def _snapshot(n: Notification) -> tuple[Any, ...]:
    return (n.status, n.provider_id, n.error_code, n.sent_at, n.settled_at, n.updated_at)


def _sign(url: str, params: dict[str, str], token: str) -> str:
    signature: str = RequestValidator(token).compute_signature(url, params)
    return signature


async def _post(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    signature: str | None,
) -> httpx.Response:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return await client.post(url, data=params, headers=headers)


async def _callback(
    client: httpx.AsyncClient, twilio: TwilioServer, sent: Sent, params: dict[str, str]
) -> httpx.Response:
    """POST ``params`` signed as Twilio would for this message's callback URL."""
    return await _post(client, sent.url, params, _sign(sent.url, params, twilio.auth_token))


@pytest.fixture
async def sent(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> Sent:
    return await _send(client, db, clock, jobs, twilio)


# Signatures


async def test_sent_sms_is_recorded_as_sent(
    sent: Sent, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    n = await _row(db, clock, sent.notification_id)
    assert (n.status, n.channel, n.name) == ("sent", "sms", "invitation")
    assert n.sent_at == clock.now() and n.settled_at is None and n.error_code is None


async def test_missing_signature_is_refused(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    before = _snapshot(await _row(db, clock, sent.notification_id))
    clock.advance(timedelta(minutes=1))
    params = twilio.callback_params(sent.sid, "delivered")
    r = await _post(client, sent.url, params, None)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "bad_signature"
    # An empty header is no better.
    assert (await _post(client, sent.url, params, "")).status_code == 403
    assert _snapshot(await _row(db, clock, sent.notification_id)) == before


@pytest.mark.parametrize("forgery", ["other_token", "altered_params", "other_url", "other_n"])
async def test_wrong_signature_is_refused(
    forgery: str,
    sent: Sent,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    twilio: TwilioServer,
) -> None:
    assert sent.sid is not None
    before = _snapshot(await _row(db, clock, sent.notification_id))
    clock.advance(timedelta(minutes=1))
    params = twilio.callback_params(sent.sid, "delivered")
    if forgery == "other_token":
        signature = _sign(sent.url, params, secrets.token_hex(16))
    elif forgery == "altered_params":
        # Signed as 'failed', posted as 'delivered'.
        signed = twilio.callback_params(sent.sid, "failed", error_code=30005)
        signature = _sign(sent.url, signed, twilio.auth_token)
    elif forgery == "other_url":
        other = f"https://rdv.example.org{PATH}?n={sent.notification_id}"
        signature = _sign(other, params, twilio.auth_token)
    else:
        # A genuine callback of another message replayed on this one.
        other = f"http://testserver.local{PATH}?n={uuid.uuid4()}"
        signature = _sign(other, params, twilio.auth_token)
    r = await _post(client, sent.url, params, signature)
    assert r.status_code == 403, r.text
    assert _snapshot(await _row(db, clock, sent.notification_id)) == before


# Statuses


async def test_delivered_settles_the_message(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    sent_at = (await _row(db, clock, sent.notification_id)).sent_at
    clock.advance(timedelta(seconds=40))
    r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "delivered"))
    assert r.status_code == 204 and r.content == b""
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "delivered" and n.provider_id == sent.sid
    assert n.settled_at == clock.now() and n.sent_at == sent_at
    assert n.error_code is None and n.lease_until is None
    settled = _snapshot(n)

    # A late 'sent' (callbacks overtake each other) changes nothing.
    clock.advance(timedelta(minutes=5))
    for late in ("queued", "sending", "sent"):
        r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, late))
        assert r.status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == settled

    # Twilio retries a callback it thinks was lost: the same answer, nothing changes.
    for _ in range(2):
        r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "delivered"))
        assert r.status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == settled

    # And a failure reported after delivery does not move it backwards either.
    late_failure = twilio.callback_params(sent.sid, "undelivered", error_code=30005)
    assert (await _callback(client, twilio, sent, late_failure)).status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == settled
    assert await _rows(db, clock, name="delivery_failed_alert") == []


async def test_read_counts_as_delivered(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "read"))
    assert r.status_code == 204
    assert (await _row(db, clock, sent.notification_id)).status == "delivered"


@pytest.mark.parametrize("with_referent", [True, False])
async def test_undelivered_after_sent_fails_and_alerts_the_referent(
    with_referent: bool,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    sent = await _send(client, db, clock, jobs, twilio, referent=with_referent)
    assert sent.sid is not None
    before = _snapshot(await _row(db, clock, sent.notification_id))

    clock.advance(timedelta(seconds=5))
    r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "sent"))
    assert r.status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == before  # already sent

    clock.advance(timedelta(seconds=30))
    params = twilio.callback_params(sent.sid, "undelivered", error_code=30005)
    r = await _callback(client, twilio, sent, params)
    assert r.status_code == 204
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "failed" and n.error_code == "twilio_30005"
    assert n.settled_at == clock.now() and n.provider_id == sent.sid

    alerts = await _rows(db, clock, name="delivery_failed_alert")
    # Without a referent, the team of the cohort's structure: its animator.
    told = sent.scenario.referent_ids[0] if with_referent else sent.scenario.animator_id
    [alert] = alerts
    assert alert.agent_id == told and alert.person_id is None
    assert alert.channel == "email" and alert.status == "pending"
    assert alert.journey_id == sent.journey_id
    assert alert.territory_id == sent.scenario.territory_id
    assert alert.idempotency_key == f"delivery_failed_alert:{sent.notification_id}:{told}"
    assert alert.params == {
        "person_id": str(n.person_id),
        "channel": "sms",
        "reason_code": "twilio_30005",
        "message_name": "invitation",
    }

    # The same failure reported again neither changes the row nor alerts twice.
    failed = _snapshot(n)
    clock.advance(timedelta(minutes=1))
    for status in ("undelivered", "failed"):
        again = twilio.callback_params(sent.sid, status, error_code=30005)
        assert (await _callback(client, twilio, sent, again)).status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == failed
    assert len(await _rows(db, clock, name="delivery_failed_alert")) == 1


async def test_failed_without_error_code(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "failed"))
    assert r.status_code == 204
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "failed" and n.error_code == "twilio_undelivered"


async def test_signed_callbacks_without_meaning_change_nothing(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    before = _snapshot(await _row(db, clock, sent.notification_id))
    clock.advance(timedelta(minutes=1))
    # A status we do not map.
    params = twilio.callback_params(sent.sid, "partially_delivered")
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    # No MessageSid.
    params = twilio.callback_params(sent.sid, "delivered")
    del params["MessageSid"]
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    # An ``n`` that is not an id, or that names no message.
    for n in ("not-a-uuid", str(uuid.uuid4())):
        url = f"http://testserver.local{PATH}?n={n}"
        params = twilio.callback_params(sent.sid, "delivered")
        r = await _post(client, url, params, _sign(url, params, twilio.auth_token))
        assert r.status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == before


async def test_a_callback_settles_a_message_whose_outcome_was_unknown(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    sent = await _send(client, db, clock, jobs, twilio, fail_with=500)
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "unknown" and n.error_code == "twilio_500"
    assert n.provider_id is None and n.settled_at is None and n.attempts == 1
    assert [status for _, _, status in twilio.requests] == [500]

    # Twilio did take it: its callback names a SID we never learnt.
    sid = "SM" + secrets.token_hex(16)
    base = {
        "AccountSid": twilio.account_sid,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsSid": sid,
        "To": ONE_PERSON[0].e164 or "",
        "From": "SPIE",
    }
    clock.advance(timedelta(seconds=20))
    params = {**base, "MessageStatus": "sent", "SmsStatus": "sent"}
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "sent" and n.provider_id == sid and n.settled_at is None

    clock.advance(timedelta(seconds=20))
    params = {**base, "MessageStatus": "delivered", "SmsStatus": "delivered"}
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "delivered" and n.provider_id == sid and n.settled_at == clock.now()

    # Nothing was resent blindly meanwhile.
    await InProcessRunner(jobs, sweep_seconds=60).run_once()
    assert twilio.messages == []


async def test_an_unknown_outcome_can_be_delivered_directly(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    sent = await _send(client, db, clock, jobs, twilio, fail_with=500)
    sid = "SM" + secrets.token_hex(16)
    params = {"AccountSid": twilio.account_sid, "MessageSid": sid, "MessageStatus": "delivered"}
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    n = await _row(db, clock, sent.notification_id)
    assert n.status == "delivered" and n.provider_id == sid and n.settled_at == clock.now()


async def test_callbacks_never_touch_an_email(
    sent: Sent, client: httpx.AsyncClient, db: Database, clock: FrozenClock, twilio: TwilioServer
) -> None:
    assert sent.sid is not None
    # The same row made an e-mail being sent: a signed SMS callback naming it changes nothing.
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Notification)
            .where(Notification.id == sent.notification_id)
            .values(channel="email", status="sending")
        )
    before = _snapshot(await _row(db, clock, sent.notification_id))
    r = await _callback(client, twilio, sent, twilio.callback_params(sent.sid, "delivered"))
    assert r.status_code == 204
    assert _snapshot(await _row(db, clock, sent.notification_id)) == before


class _CallbackFirst:
    """The real Twilio transport, but Twilio's status callback reaches us before its answer
    to the create request does (it happens: the callback is a separate HTTP request)."""

    def __init__(
        self, real: SmsTransport, client: httpx.AsyncClient, twilio: TwilioServer, status: str
    ) -> None:
        self.real, self.client, self.twilio, self.status = real, client, twilio, status
        self.answers: list[int] = []

    async def send_sms(self, message: OutgoingSms) -> str:
        sid = await self.real.send_sms(message)
        assert message.status_callback is not None
        params = self.twilio.callback_params(sid, self.status)
        signature = _sign(message.status_callback, params, self.twilio.auth_token)
        r = await _post(self.client, message.status_callback, params, signature)
        self.answers.append(r.status_code)
        return sid


@pytest.mark.parametrize("status", ["sent", "delivered"])
async def test_a_callback_overtaking_the_answer_still_counts_the_invitation(
    status: str,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes(ONE_PERSON),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    racing = _CallbackFirst(jobs.deliverer.transports.sms, client, twilio, status)
    transports = Transports(email=jobs.deliverer.transports.email, sms=racing)
    context = dataclasses.replace(
        jobs, deliverer=dataclasses.replace(jobs.deliverer, transports=transports)
    )
    await InProcessRunner(context, sweep_seconds=60).run_once()
    assert racing.answers == [204]
    [n] = await _rows(db, clock, channel="sms")
    [message] = twilio.messages
    assert n.status == status and n.provider_id == message.sid  # the callback did apply
    async with db.unit_of_work(clock=clock, write=False) as uow:
        invited_at = (await uow.session.scalars(select(Journey.invited_at))).one()
    assert invited_at == clock.now()  # reminders and indicators start from it
    assert n.sent_at == clock.now()


async def test_an_unknown_invitation_confirmed_by_callback_counts_as_invited(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    twilio: TwilioServer,
) -> None:
    sent = await _send(client, db, clock, jobs, twilio, fail_with=500)
    sid = "SM" + secrets.token_hex(16)
    params = {"AccountSid": twilio.account_sid, "MessageSid": sid, "MessageStatus": "delivered"}
    clock.advance(timedelta(seconds=30))
    assert (await _callback(client, twilio, sent, params)).status_code == 204
    assert (await _row(db, clock, sent.notification_id)).status == "delivered"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, sent.journey_id)
        assert journey is not None
        assert journey.invited_at is not None
