"""Providers slower than the client's timeout (issue 18 item 2), with the real SMTP client
against the loopback aiosmtpd server and Twilio's official client against the loopback fake,
through the project's in-process worker. Timeouts are ``smtp_timeout_seconds`` and
``twilio_timeout_seconds`` (settings), cut to half a second here.

Where the message cannot have left (an SMTP server silent before the end of data, a Twilio
API that does not take the connection), the row goes back to pending with the attempt
counted, and leaves once when the provider answers. Where it may have left (no reply after
the end of data, a Twilio request sent but not answered), it is ``unknown`` and never sent
again blindly: Twilio's status callback settles it, and without one the referent is told
after 6 hours.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from tests.integration.faults.outbox_support import (
    REFERENT_EMAIL,
    import_people,
    rows,
    runner,
    status_callback,
    statuses,
)
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications import outbox
from rdv_spie.settings import Settings

TIMEOUT = 0.5
SLOW = 3 * TIMEOUT


def _short(settings: Settings, **extra: object) -> Settings:
    return settings.model_copy(
        update={"smtp_timeout_seconds": TIMEOUT, "twilio_timeout_seconds": TIMEOUT, **extra}
    )


@contextmanager
def _unanswered_port() -> Iterator[int]:
    """A port whose listener never accepts, its one-slot backlog already taken: a connection
    attempt hangs in the handshake, as to a firewalled or overloaded API (no request leaves)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield listener.getsockname()[1]


async def test_smtp_silent_before_the_data_is_retried_then_sent_once(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    await import_people(client, db, clock, 3)  # e-mails: persons 0 and 2
    smtp.delay_next(SLOW, at="RCPT", times=2)
    async with runner(_short(flow_settings), db, clock) as jobs:
        await jobs.run_once()
        emails = [n for n in await rows(db, clock) if n.channel == "email"]
        assert [(n.status, n.error_code, n.attempts) for n in emails] == [
            ("pending", "timeout", 1)
        ] * 2
        assert all(n.not_before > clock.now() for n in emails)
        await asyncio.sleep(SLOW)  # the server answers at last, to a client long gone
        assert smtp.messages == []

        clock.advance(timedelta(minutes=5))
        await jobs.run_once()  # the server answers in time now
        clock.advance(timedelta(hours=1))
        await jobs.run_once()

    found = await rows(db, clock)
    assert statuses(found) == {"email:sent": 2, "sms:sent": 2}
    assert sorted(n.attempts for n in found if n.channel == "email") == [2, 2]
    assert len(smtp.messages) == 2 and len({m.rcpt_tos[0] for m in smtp.messages}) == 2
    assert {m.message["Message-ID"] for m in smtp.messages} == {
        n.provider_id for n in found if n.channel == "email"
    }
    assert len(twilio.messages) == 2  # the SMS were not held up


async def test_smtp_silent_after_the_data_is_never_resent_and_the_referent_is_told(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
) -> None:
    """No reply to the end of data: a relay may have queued it (this one drops it when the
    client hangs up), so it is not sent again: the referent checks with the person."""
    await import_people(client, db, clock, 3)
    smtp.delay_next(SLOW, at="DATA", times=1)
    async with runner(_short(flow_settings), db, clock) as jobs:
        await jobs.run_once()
        await asyncio.sleep(SLOW)
        found = await rows(db, clock)
        silent = next(n for n in found if n.status == "unknown")
        assert (silent.channel, silent.error_code, silent.attempts) == ("email", "smtp_no_reply", 1)
        for _ in range(3):  # sweeps: nothing is sent again
            clock.advance(timedelta(hours=1))
            await jobs.run_once()
        assert len(smtp.messages) == 1
        assert next(n for n in await rows(db, clock) if n.id == silent.id).status == "unknown"

        clock.advance(outbox.UNKNOWN_SETTLES_AFTER)
        await jobs.run_once()  # shown as failed; the referent's alert leaves
        await jobs.run_once()

    found = await rows(db, clock)
    settled = next(n for n in found if n.id == silent.id)
    assert (settled.status, settled.error_code, settled.attempts) == (
        "failed",
        "no_status_callback",
        1,
    )
    to_people = [m for m in smtp.messages if m.rcpt_tos[0] != REFERENT_EMAIL]
    assert len(to_people) == 1 and silent.provider_id is None
    alerts = [m for m in smtp.messages if m.rcpt_tos[0] == REFERENT_EMAIL]
    assert len(alerts) == 1
    alert = alerts[0].message.get_body(("plain",)).get_content()
    assert "n'a pas pu être remis" in alert and "n'a jamais confirmé" in alert


async def test_twilio_silent_after_the_request_waits_for_its_callback(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    """Twilio took both requests but answered after the timeout: both unknown, never sent
    again; one callback says delivered, the other never comes (the referent is told)."""
    await import_people(client, db, clock, 3)  # SMS: persons 0 and 1
    twilio.delay_next(SLOW, times=2)
    async with runner(_short(flow_settings), db, clock) as jobs:
        await jobs.run_once()
        accepted = await asyncio.to_thread(twilio.wait_for, 2, 10.0)
        sms = [n for n in await rows(db, clock) if n.channel == "sms"]
        assert [(n.status, n.error_code, n.attempts) for n in sms] == [
            ("unknown", "timeout", 1)
        ] * 2
        for _ in range(3):
            clock.advance(timedelta(minutes=30))
            await jobs.run_once()
        assert len(twilio.messages) == 2

        await status_callback(client, twilio, accepted[0].sid, "delivered")
        clock.advance(outbox.UNKNOWN_SETTLES_AFTER)
        await jobs.run_once()
        await jobs.run_once()

    by_callback = {n.id: n for n in await rows(db, clock) if n.channel == "sms"}
    outcomes = sorted((n.status, n.error_code, n.attempts) for n in by_callback.values())
    assert outcomes == [("delivered", "timeout", 1), ("failed", "no_status_callback", 1)]
    assert len(twilio.messages) == 2 and len({m.to for m in twilio.messages}) == 2
    alerts = [m for m in smtp.messages if m.rcpt_tos[0] == REFERENT_EMAIL]
    assert len(alerts) == 1
    assert "Le SMS envoyé à" in alerts[0].message.get_body(("plain",)).get_content()


async def test_twilio_not_taking_the_connection_is_retried_then_sent_once(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    twilio: TwilioServer,
) -> None:
    """The connection never opens within the timeout: no request left, so the SMS is retried
    (not ``unknown``, which would leave it unsent for good), and leaves once Twilio answers."""
    await import_people(client, db, clock, 3)
    with _unanswered_port() as port:
        hanging = _short(flow_settings, twilio_api_base=f"http://127.0.0.1:{port}")
        async with runner(hanging, db, clock) as jobs:
            await jobs.run_once()
    sms = [n for n in await rows(db, clock) if n.channel == "sms"]
    assert [(n.status, n.error_code, n.attempts) for n in sms] == [
        ("pending", "connect_timeout", 1)
    ] * 2
    assert all(n.handed_at is None and n.not_before > clock.now() for n in sms)

    clock.advance(timedelta(minutes=5))
    async with runner(_short(flow_settings), db, clock) as jobs:
        await jobs.run_once()
        clock.advance(timedelta(hours=1))
        await jobs.run_once()
    found = await rows(db, clock)
    assert statuses(found) == {"sms:sent": 2, "email:sent": 2}
    assert sorted(n.attempts for n in found if n.channel == "sms") == [2, 2]
    assert len(twilio.messages) == 2 and len({m.to for m in twilio.messages}) == 2


@pytest.fixture(autouse=True)
def _no_leftover_programming(smtp: SmtpServer, twilio: TwilioServer) -> Iterator[None]:
    yield
    smtp.reset()
    twilio.reset()
