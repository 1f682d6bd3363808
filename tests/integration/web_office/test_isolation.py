"""An agent of another organisation gets the same 404 as for an unknown id, through every
page and form, and never sees the first organisation's people."""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    body,
    csrf,
    login,
    office_journey,
    set_password,
)

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey
from rdv_spie.scheduling.models import Absence, Appointment, AppointmentStatus, AvailabilityRule
from rdv_spie.territories.models import Organisation, OrganisationKind, Place, PlaceKind


async def same_territory_stranger(db: Database, clock: FrozenClock, office: Office) -> str:
    """A referent of another organisation (a mission locale) on the same territory."""
    async with db.unit_of_work(clock=clock) as uow:
        org = Organisation(
            territory_id=office.s.territory_id,
            name="Mission locale",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        agent = Agent(email="voisin@ml.test", first_name="Voisin", last_name="Test")
        uow.session.add_all([org, agent])
        await uow.session.flush()
        uow.session.add(Membership(agent_id=agent.id, organisation_id=org.id, role=Role.REFERENT))
        place = Place(organisation_id=org.id, name="Antenne ML", kind=PlaceKind.ADDRESS)
        uow.session.add(place)
    await set_password(db, clock, agent.id)
    return agent.email


@pytest.mark.parametrize("where", ["other_territory", "same_territory"])
async def test_another_organisation_sees_nothing_and_changes_nothing(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock, where: str
) -> None:
    s = office.s
    stranger = office.other_email
    if where == "same_territory":
        stranger = await same_territory_stranger(db, clock, office)
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Secret",
        appointment_by_on=date(2026, 12, 4),
        referent_id=s.referent_ids[0],
        locked=True,
    )
    booked = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2026-12-02T09:00:00Z",
            "journey_id": str(journey),
            "referent_id": str(s.referent_ids[0]),
        },
        headers=s.auth(),
    )
    assert booked.status_code == 201
    appointment = booked.json()["id"]
    other_journey = await office_journey(
        db,
        clock,
        office,
        last_name="Cache",
        appointment_by_on=date(2026, 12, 3),
    )
    async with db.unit_of_work(clock=clock) as uow:
        rule_id = await uow.session.scalar(
            select(AvailabilityRule.id).where(AvailabilityRule.agent_id == s.referent_ids[0])
        )
        absence = Absence(
            agent_id=s.referent_ids[0],
            starts_at=clock.now().replace(day=10),
            ends_at=clock.now().replace(day=11),
        )
        uow.session.add(absence)
        await uow.session.flush()
        absence_id = absence.id

    await login(client, stranger)
    page = await client.get("/agent/agenda")
    token = csrf(page.text)
    unknown = uuid.uuid4()
    # Reads.
    for path in (
        f"/agent/prise-de-rdv?parcours={journey}",
        f"/agent/prise-de-rdv?parcours={other_journey}",
        f"/agent/prise-de-rdv?parcours={unknown}",
        f"/agent/prise-de-rdv?parcours={journey}&debut=2026-12-03T09:00:00%2B00:00",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in body(response)
    # Writes.
    forms = {
        f"/agent/rendez-vous/{appointment}/statut": {"status": "excused"},
        f"/agent/rendez-vous/{appointment}/statut ": {"status": "nonsense"},
        f"/agent/parcours/{journey}/deblocage": {},
        f"/agent/disponibilites/plages/{rule_id}/suppression": {},
        f"/agent/disponibilites/absences/{absence_id}/suppression": {},
        "/agent/prise-de-rdv": {
            "parcours": str(other_journey),
            "motif": str(s.single_type_id),
            "lieu": str(s.place_ids[0]),
            "debut": "2026-12-03T09:00:00+00:00",
            "cle": "une-cle-de-soumission",
        },
    }
    for path, data in forms.items():
        response = await client.post(path.strip(), data={"csrf_token": token, **data})
        assert response.status_code == 404, (path, response.status_code)
        assert "Page introuvable" in body(response)
    for path in (f"/agent/rendez-vous/{unknown}/statut", f"/agent/parcours/{unknown}/deblocage"):
        response = await client.post(path, data={"csrf_token": token, "status": "seen"})
        assert response.status_code == 404
    # Lists.
    for path in (
        "/agent/personnes",
        "/agent/prise-de-rdv",
        "/agent/prise-de-rdv?q=secret",
        "/agent/agenda?semaine=2026-11-30&equipe=1",
    ):
        text = body(await client.get(path))
        assert "Secret" not in text and "Cache" not in text, path
    # Nothing changed.
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Appointment, uuid.UUID(appointment))
        assert row is not None and row.status == AppointmentStatus.BOOKED
        locked = await uow.session.get(Journey, journey)
        assert locked is not None and locked.identity_locked_at is not None
        assert await uow.session.get(AvailabilityRule, rule_id) is not None
        assert await uow.session.get(Absence, absence_id) is not None
        assert not (
            await uow.session.scalars(
                select(Appointment.id).where(Appointment.journey_id == other_journey)
            )
        ).all()
    # The first organisation's referent does see them.
    await login(client, office.email)
    mine = body(await client.get("/agent/personnes"))
    assert "Camille Cache" in mine
    assert re.search(r"Camille Secret", body(await client.get("/agent/agenda?semaine=2026-11-30")))


async def test_the_api_books_only_for_journeys_the_organisation_follows(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s = office.s
    stranger = await same_territory_stranger(db, clock, office)
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Secret",
        appointment_by_on=date(2026, 12, 4),
    )
    async with db.unit_of_work(clock=clock) as uow:
        agent_id = await uow.session.scalar(select(Agent.id).where(Agent.email == stranger))
        assert agent_id is not None
        key = (await api_keys.create_api_key(uow=uow, agent_id=agent_id, label="t")).secret
    attempt = {
        "appointment_type_id": str(s.single_type_id),
        "place_id": str(s.place_ids[0]),
        "starts_at": "2026-12-02T09:00:00Z",
        "journey_id": str(journey),
    }
    refused = await client.post(
        "/api/v1/appointments/", json=attempt, headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status_code == 404 and refused.json()["field"] == "journey_id"
    allowed = await client.post("/api/v1/appointments/", json=attempt, headers=s.auth())
    assert allowed.status_code == 201
