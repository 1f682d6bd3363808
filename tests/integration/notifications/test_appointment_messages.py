"""Messages that follow an appointment (confirmation with an .ics, reminder 48 h before,
cancellation) and the alerts to agents (no slot inside the delay, deadline near)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import httpx
import icalendar
import pytest
from sqlalchemy import select
from tests.support import intake
from tests.support import scenario as sc
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications.models import Notification
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow
ONE = (
    "Nom;Prénom;Téléphone;Courriel;Date d'entrée\r\nMartin;Léa;06 12 34 56 78;lea@exemple.fr;{}\r\n"
)


async def _one_person(
    client: httpx.AsyncClient, s: sc.Scenario, cohort: object, entered: str = ""
) -> None:
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=ONE.format(entered).encode(),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == 1, r.text


def _calendar(message: EmailMessage) -> icalendar.Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


async def _names(db: Database, clock: FrozenClock) -> list[tuple[str, str, str]]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.name, Notification.channel, Notification.status).order_by(
                Notification.created_at, Notification.name, Notification.channel
            )
        )
        return [(n, c, st) for n, c, st in rows]


async def test_confirmation_move_cancel_and_reminder(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    await _one_person(client, s, cohort)
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once()
    journey = (await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())).json()[0]
    smtp.reset()
    twilio.reset()

    booked = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2026-12-09T08:00:00+00:00",  # Wednesday 09:00 in Paris
            "journey_id": journey["id"],
        },
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["id"]
    await runner.run_once()
    assert len(smtp.messages) == 1 and len(twilio.messages) == 1
    first = _calendar(smtp.messages[0].message)
    assert first["METHOD"] == "REQUEST"
    event = first.walk("VEVENT")[0]
    uid = str(event["UID"])
    assert appointment in uid and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART").astimezone().isoformat().startswith("2026-12-09")
    assert "09/12" in twilio.messages[0].body or "9 décembre" in twilio.messages[0].body

    moved = await client.post(
        f"/api/v1/appointments/{appointment}/move",
        headers=s.auth(),
        json={"starts_at": "2026-12-10T09:00:00+00:00"},
    )
    assert moved.status_code == 200, moved.text
    await runner.run_once()
    second = _calendar(smtp.messages[1].message).walk("VEVENT")[0]
    assert str(second["UID"]) == uid and int(second["SEQUENCE"]) == 1

    # The reminder 48 h before the moved appointment, once per channel; the first one's is gone.
    clock.set(clock.now().replace(day=8, hour=9))  # Tuesday 8 December, 10:00 in Paris
    await runner.run_once()
    reminders = [(c, st) for n, c, st in await _names(db, clock) if n == "appointment_reminder"]
    assert sorted(reminders) == [
        ("email", "cancelled"),
        ("email", "sent"),
        ("sms", "cancelled"),
        ("sms", "sent"),
    ]
    assert len(smtp.messages) == 3 and len(twilio.messages) == 3

    cancelled = await client.post(
        f"/api/v1/appointments/{appointment}/cancel", headers=s.auth(), json={"by": "person"}
    )
    assert cancelled.status_code == 200, cancelled.text
    await runner.run_once()
    last = _calendar(smtp.messages[3].message)
    assert last["METHOD"] == "CANCEL"
    event = last.walk("VEVENT")[0]
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
    assert event["STATUS"] == "CANCELLED"
    assert len(twilio.messages) == 4


async def test_no_slot_inside_the_delay_alerts_the_animator_once_a_day(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
) -> None:
    s = await sc.build(db, clock)
    lonely = await client.post(
        "/api/v1/appointment-types",
        headers=s.auth(),
        json={"territory_id": str(s.territory_id), "name": "Sans créneau", "duration_minutes": 30},
    )
    assert lonely.status_code == 201, lonely.text
    cohort = await intake.create_cohort(client, s, appointment_type_id=lonely.json()["id"])
    await _one_person(client, s, cohort)
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once()
    await runner.run_once()
    assert twilio.messages == []
    alerts = [m for m in smtp.messages if m.rcpt_tos == ("animator@test.test",)]
    assert len(alerts) == 1 and len(smtp.messages) == 1
    journeys = (await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())).json()
    assert [j["status"] for j in journeys] == ["to_invite"]

    clock.advance(timedelta(days=1))
    await runner.run_once()
    assert len(smtp.messages) == 2  # the next day, one more

    # Slots appear (the type is allowed in the referents' rules): the invitation leaves.
    for rule in (await client.get("/api/v1/availability-rules", headers=s.auth())).json():
        types = [*rule["appointment_type_ids"], lonely.json()["id"]]
        r = await client.put(
            f"/api/v1/availability-rules/{rule['id']}",
            headers=s.auth(),
            json={**{k: rule[k] for k in _RULE_FIELDS}, "appointment_type_ids": types},
        )
        assert r.status_code == 200, r.text
    await runner.run_once()
    assert len(twilio.messages) == 1


_RULE_FIELDS = ("agent_id", "place_id", "weekdays", "start_time", "end_time", "valid_from")


async def test_referent_told_once_when_a_deadline_is_near(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
) -> None:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    await _one_person(client, s, cohort, entered="07/11/2026")  # deadline 7 December
    from sqlalchemy import update

    from rdv_spie.people.models import Journey

    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(Journey).values(referent_id=s.referent_ids[1]))
    runner = InProcessRunner(jobs, sweep_seconds=60)
    await runner.run_once()
    await runner.run_once()
    to_referent = [m for m in smtp.messages if m.rcpt_tos == ("referent1@test.test",)]
    assert len(to_referent) == 1
    body = to_referent[0].message.get_body(preferencelist=("plain",))
    assert body is not None and "Martin" in str(body.get_content())
