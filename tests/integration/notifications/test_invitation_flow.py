"""End to end on both engines: a CSV with bad rows → journeys → invitations by SMS and e-mail
through the loopback servers → links that open → reminders at D+3 for those who did not book,
none for the one who did."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.support import intake
from tests.support import scenario as sc
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.logging import configure_logging
from rdv_spie.notifications.models import Notification
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

LINK = re.compile(r"http://testserver\.local/i/([A-Za-z0-9_-]{22})")


async def _import(client: httpx.AsyncClient, s: sc.Scenario, cohort: uuid.UUID, data: bytes) -> Any:
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=data,
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def _count(db: Database, clock: FrozenClock, **where: str) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        stmt = select(func.count()).select_from(Notification)
        for name, value in where.items():
            stmt = stmt.where(getattr(Notification, name) == value)
        return int(await uow.session.scalar(stmt) or 0)


@pytest.mark.slow
async def test_intake_invitations_reminders(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging()  # print to the stream captured now
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    people = intake.people(45)
    report = await _import(client, s, cohort, intake.csv_bytes(people, bad_every=9))

    # 50 lines of people: 45 go in, the 5 bad ones are named with their line and column.
    assert report["rows"] == 50 and report["journeys_opened"] == 45
    assert report["rejected_rows"] == 5
    by_line = {e["line"]: e for e in report["rejected"]}
    assert sorted(by_line) == [11, 21, 31, 41, 51]
    assert by_line[11]["code"] == "invalid_phone" and by_line[11]["column"] == 4
    assert by_line[21]["code"] == "invalid_email" and by_line[21]["column"] == 5
    assert by_line[31]["code"] == "invalid_date" and by_line[31]["column"] == 3
    assert by_line[41]["code"] == "missing_value" and by_line[41]["column"] == 1
    assert by_line[51]["code"] == "wrong_column_count"
    for error in report["rejected"]:  # no personal data echoed back
        assert "exemple.fr" not in error["detail"] and "06 " not in error["detail"]

    # The same file again changes nothing.
    again = await _import(client, s, cohort, intake.csv_bytes(people, bad_every=9))
    assert again["journeys_opened"] == 0 and again["created"] == 0 and again["updated"] == 0

    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once()
    with_phone = {p.e164 for p in people if p.phone}
    with_email = {p.email for p in people if p.email}
    sms = twilio.messages
    mails = smtp.messages
    assert len(sms) == len(with_phone) == 30
    assert {m.to for m in sms} == with_phone
    assert len(mails) == len(with_email) == 30
    assert {m.rcpt_tos[0] for m in mails} == with_email

    # Every link opens; a made-up one does not.
    tokens = [LINK.search(m.body) for m in sms] + [LINK.search(_text(m.message)) for m in mails]
    assert all(tokens)
    assert len({t.group(1) for t in tokens if t}) == 60  # one link per person and channel
    for t in tokens[:5] + tokens[-5:]:
        assert t is not None
        client.cookies.clear()
        opened = await client.get(f"/i/{t.group(1)}")
        assert opened.status_code == 303 and opened.headers["location"] == "/rdv"
        page = await client.get("/rdv")  # the token is left behind for a session cookie
        assert page.status_code == 200 and "rendez-vous" in page.text
        assert page.headers["cache-control"] == "no-store"
    assert (await client.get("/i/" + "A" * 22)).status_code == 404

    # Running again sends nothing more.
    await runner.run_once()
    assert len(twilio.messages) == 30 and len(smtp.messages) == 30

    # One person books (for their journey): their confirmation leaves, their reminders won't.
    journeys = (await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())).json()
    assert {j["status"] for j in journeys} == {"invited"}
    booker = journeys[0]
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2026-12-09T08:00:00+00:00",
            "journey_id": booker["id"],
        },
    )
    assert r.status_code == 201, r.text
    await runner.run_once()
    confirmations = await _count(db, clock, name="booking_confirmation", status="sent")
    assert confirmations >= 1
    sms_before, mails_before = len(twilio.messages), len(smtp.messages)

    # Three days later: one reminder per channel for everyone who did not book.
    clock.advance(timedelta(days=3))
    await runner.run_once()
    booker_person = uuid.UUID(booker["person_id"])
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = (
            await uow.session.execute(
                select(
                    Notification.person_id,
                    Notification.name,
                    Notification.channel,
                    Notification.status,
                )
            )
        ).all()
    booker_channels = {c for p, n, c, _ in rows if p == booker_person and n == "invitation"}
    reminders = [(p, c, st) for p, n, c, st in rows if n == "invitation_reminder"]
    assert not [p for p, _, _ in reminders if p == booker_person]
    assert {st for _, _, st in reminders} == {"sent"}
    sms_reminders = 30 - ("sms" in booker_channels)
    email_reminders = 30 - ("email" in booker_channels)
    assert len([r for r in reminders if r[1] == "sms"]) == sms_reminders
    assert len(twilio.messages) - sms_before == sms_reminders
    assert len(smtp.messages) - mails_before == email_reminders

    # Running again the same day sends no second reminder (and never twice in 24 h).
    before = len(twilio.messages) + len(smtp.messages)
    await runner.run_once()
    assert len(twilio.messages) + len(smtp.messages) == before

    # And the status moved: the booker is booked, the others still invited.
    statuses = {
        j["id"]: j["status"]
        for j in (await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())).json()
    }
    assert statuses[booker["id"]] == "booked"
    assert set(statuses.values()) == {"booked", "invited"}

    # The service's logs name ids and codes, never a person, an address or a link.
    out, err = capfd.readouterr()
    ours = [line for line in (out + err).splitlines() if "httpx" not in line]
    assert any("notification_sent" in line for line in ours)
    for line in ours:
        assert "@exemple.fr" not in line and "+33" not in line
        assert "/i/" not in line.replace("path=/i/…", "")  # the access log masks the token
        assert "Prénom" not in line
