"""Booking on behalf for a journey of the agent's second territory, acting for that
territory's structure: its places and its time zone, not those of the agent's first
territory (by name)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    act_for,
    add_journey,
    body,
    login,
)
from tests.support import scenario as sc

from rdv_spie.agents.models import Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort
from rdv_spie.scheduling.models import Appointment

BOOK = "/agent/prise-de-rdv"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_SLOT = re.compile(r'href="(/agent/prise-de-rdv\?parcours=[^"]+&amp;debut=[^"]+)">(\d+h\d*)')
REUNION = ZoneInfo("Indian/Reunion")


async def test_an_agent_of_two_territories_books_in_the_second(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    # "Territoire reunion" sorts after "Territoire laon", the agent's own: it is their second.
    far = await sc.build(db, clock, slug="reunion", timezone="Indian/Reunion")
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            Membership(
                agent_id=office.s.referent_ids[0],
                organisation_id=far.organisation_id,
                role=Role.REFERENT,
            )
        )
        cohort = Cohort(
            territory_id=far.territory_id,
            name="Jeunes de La Réunion",
            appointment_type_id=far.single_type_id,
            organisation_id=far.organisation_id,
            deadline_alert_days=7,
        )
        uow.session.add(cohort)
        await uow.session.flush()
        cohort_id = cohort.id
    journey = await add_journey(
        db,
        clock,
        territory_id=far.territory_id,
        cohort_id=cohort_id,
        last_name="Payet",
        appointment_by_on=date(2026, 12, 20),
    )
    await login(client, office.email)
    # Acting for their first structure, the journey is not theirs to see.
    assert (await client.get(f"{BOOK}?parcours={journey}")).status_code == 404
    await act_for(client, far.organisation_id)
    slots = await client.get(f"{BOOK}?parcours={journey}")
    assert slots.status_code == 200
    links = _SLOT.findall(slots.text)
    assert links, "no slot offered"
    # The far territory's wall times: its referents open 9h-12h local (6h-9h in Paris).
    assert links[0][1] == "9h"
    confirm = await client.get(links[0][0].replace("&amp;", "&"))
    assert "Confirmer le rendez-vous" in body(confirm)
    fields = dict(_HIDDEN.findall(confirm.text))
    assert fields["lieu"] == str(far.place_ids[0])  # the far territory's place
    booked = await client.post(BOOK, data=fields)
    assert booked.status_code == 303, body(booked)
    starts_at = datetime.fromisoformat(fields["debut"])
    monday = starts_at.astimezone(REUNION).date()
    monday = date.fromordinal(monday.toordinal() - monday.weekday())
    assert booked.headers["location"].startswith(f"/agent/agenda?semaine={monday.isoformat()}")
    async with db.unit_of_work(clock=clock) as uow:
        appointment = await uow.session.scalar(
            select(Appointment).where(Appointment.journey_id == journey)
        )
        assert appointment is not None
        assert appointment.place_id == far.place_ids[0]
        assert appointment.starts_at == starts_at
        assert appointment.starts_at.astimezone(REUNION).hour == 9
