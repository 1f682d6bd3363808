"""An agent is alerted where a person will not be reached (issue 18 item 2): after a
permanent failure (Twilio 400 invalid number, SMTP 550 for the recipient, a status callback
saying undelivered) the message fails once, is never tried again, and a
``delivery_failed_alert`` e-mail reaches, through the loopback SMTP server, the journey's
referent, or, for a journey without one (every journey after an import), the animators of
the cohort's structure; its link opens for them, and no URL in it names or reaches the person.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import update
from tests.integration.faults.outbox_support import (
    REFERENT_EMAIL,
    import_people,
    rows,
    runner,
    status_callback,
)
from tests.integration.web_office.office_support import login, set_password
from tests.support import scenario as sc
from tests.support.smtp_server import ReceivedEmail, SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications.policy import MAX_ATTEMPTS
from rdv_spie.people.models import Journey
from rdv_spie.settings import Settings

ANIMATOR_EMAIL = "animator@test.test"
_URL = re.compile(r"https?://[^\s\"'<>]+")


def _text(m: ReceivedEmail) -> str:
    return str(m.message.get_body(("plain",)).get_content())


async def _fail_three_ways(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
    *,
    with_referent: bool,
) -> tuple[sc.Scenario, list[ReceivedEmail]]:
    """Person 0's SMS refused (invalid number), person 0's e-mail refused (550), person 1's
    SMS accepted then reported undelivered; the alerts sent, and nothing tried again."""
    s, people = await import_people(client, db, clock, 3)
    if not with_referent:
        async with db.unit_of_work(clock=clock) as uow:
            await uow.session.execute(update(Journey).values(referent_id=None))
    twilio.fail_next(400, code=21211)
    smtp.reply_next(550, "5.1.1 no such user", at="RCPT")
    async with runner(settings, db, clock) as jobs:
        await jobs.run_once()
        await jobs.run_once()
        found = await rows(db, clock)
        refused = {n.error_code: n for n in found if n.status == "failed"}
        assert set(refused) == {"twilio_21211", "smtp_550"}
        assert all(n.attempts == 1 for n in refused.values())
        (accepted,) = twilio.messages
        await status_callback(client, twilio, accepted.sid, "undelivered", ErrorCode="30003")
        calls = len(twilio.requests)
        for _ in range(3):  # sweeps and planning passes: none of them is tried again
            clock.advance(timedelta(hours=1))
            await jobs.run_once()
        assert len(twilio.requests) == calls
    found = await rows(db, clock)
    failed = sorted(n.error_code or "" for n in found if n.status == "failed")
    assert failed == ["smtp_550", "twilio_21211", "twilio_30003"]
    assert all(n.attempts == 1 for n in found if n.status == "failed")
    to_people = [m for m in smtp.messages if m.rcpt_tos[0].endswith("@exemple.fr")]
    assert len(to_people) == 1  # person 2's invitation; person 0's was refused
    alerts = [m for m in smtp.messages if m.rcpt_tos[0].endswith("@test.test")]
    for alert in alerts:
        text = _text(alert)
        for person in people[:2]:
            for url in _URL.findall(text):  # the links name and reach nobody
                assert person.last_name not in url and person.first_name not in url
                assert person.email is None or person.email not in url
        for person in people:
            assert person.e164 is None or person.e164 not in text
            assert person.email is None or person.email not in text
    return s, alerts


async def test_the_referent_is_told_of_each_failure(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    _, alerts = await _fail_three_ways(
        client, db, clock, flow_settings, smtp, twilio, with_referent=True
    )
    assert {m.rcpt_tos[0] for m in alerts} == {REFERENT_EMAIL}
    texts = sorted(_text(m) for m in alerts)
    assert len(texts) == 3
    reasons = [
        "le numéro de téléphone n'est pas valide",
        "l'adresse e-mail a été refusée",
        "le téléphone est éteint ou injoignable",
    ]
    for reason in reasons:
        assert sum(reason in t for t in texts) == 1, reason
    assert all("Nom0" in t or "Nom1" in t for t in texts)


async def test_without_a_referent_the_structures_animators_are_told(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    s, alerts = await _fail_three_ways(
        client, db, clock, flow_settings, smtp, twilio, with_referent=False
    )
    assert len(alerts) == 3 and {m.rcpt_tos[0] for m in alerts} == {ANIMATOR_EMAIL}
    # Its links (the booking page for the person, the agenda) open for the animator.
    links = _URL.findall(_text(alerts[0]))
    assert len(links) == 2
    await set_password(db, clock, s.animator_id)
    assert (await login(client, ANIMATOR_EMAIL)).status_code == 303
    for link in links:
        parts = urlsplit(link)
        page = await client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert page.status_code == 200, (link, page.status_code)


@pytest.fixture(autouse=True)
def _no_leftover_programming(smtp: SmtpServer, twilio: TwilioServer) -> Iterator[None]:
    yield
    smtp.reset()
    twilio.reset()


async def test_retries_exhausted_end_in_failed_and_an_alert(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    """The SMTP server down through every attempt: each pass counts one, none is lost, the
    last one fails the e-mails and the referent hears of each when the server is back."""
    await import_people(client, db, clock, 3)
    smtp.stop()
    async with runner(flow_settings, db, clock) as jobs:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await jobs.run_once()
            emails = [n for n in await rows(db, clock) if n.name == "invitation"]
            emails = [n for n in emails if n.channel == "email"]
            assert {n.attempts for n in emails} == {attempt}
            expected = "failed" if attempt == MAX_ATTEMPTS else "pending"
            assert {(n.status, n.error_code) for n in emails} == {(expected, "connection")}
            clock.advance(timedelta(hours=1))
        smtp.start()
        await jobs.run_once()
    alerts = [m for m in smtp.messages if m.rcpt_tos[0] == REFERENT_EMAIL]
    assert len(alerts) == 2 and not [m for m in smtp.messages if m not in alerts]
    assert all("injoignable, malgré plusieurs essais" in _text(m) for m in alerts)
