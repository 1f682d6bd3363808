"""The confirmation page, SMS and e-mail say whom the person will meet (the referent's first
name and the structure the appointment is held for) when the appointment's type allows it."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import AppointmentAgent, AppointmentType
from rdv_spie.territories.models import Organisation
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("named", [True, False])
async def test_whom_the_person_meets(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    jobs: JobContext,
    smtp: SmtpServer,
    twilio: TwilioServer,
    named: bool,
) -> None:
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Organisation)
            .where(Organisation.id == s.organisation_id)
            .values(name="Mission locale du Laonnois")
        )
        if not named:
            await uow.session.execute(
                update(AppointmentType)
                .where(AppointmentType.id == s.single_type_id)
                .values(show_agent_name=False)
            )
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Person)
            .where(Person.id == invited.person_id)
            .values(email="camille@exemple.fr", email_consent=True)
        )
    booked = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2026-12-09T08:00:00+00:00",
            "journey_id": str(invited.journey_id),
        },
    )
    assert booked.status_code == 201, booked.text
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        attendee = await uow.session.get(AppointmentAgent, (appointment.id, s.referent_ids[0]))
        referent = "Referent0" if attendee is not None else "Referent1"
    whom = f"{referent} (Mission locale du Laonnois)"

    await InProcessRunner(jobs, sweep_seconds=60).run_once()
    [sms] = [m.body for m in twilio.messages]
    [mail] = [m.message for m in smtp.messages]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    await b.verified(client, invited.token)
    page = (await client.get("/rdv/confirmation")).text
    assert "Votre rendez-vous est confirmé" in page

    if named:
        assert f"avec {referent}" in sms  # a detail the SMS may drop, kept when it fits
        assert f"Avec : {whom}" in text and whom in html
        assert f"<dt>Avec</dt><dd>{whom}</dd>" in page
    else:
        for shown in (sms, text, html, page):
            assert "Referent" not in shown and "Avec" not in shown
