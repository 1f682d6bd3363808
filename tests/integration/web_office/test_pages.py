"""Every back-office page answers for a logged-in agent, marks its menu entry, and offers
logout as a form; a cancelled appointment's status no longer changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from tests.integration.web_office.office_support import (
    Office,
    body,
    csrf,
    login,
    office_journey,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

PAGES = [
    ("/agent/agenda", "Agenda"),
    ("/agent/disponibilites", "Disponibilités"),
    ("/agent/personnes", "Personnes à suivre"),
    ("/agent/prise-de-rdv", "Prendre un rendez-vous"),
    ("/agent/calendrier", "Mon calendrier"),
]


@pytest.mark.parametrize(("path", "words"), PAGES)
async def test_each_page_marks_its_menu_entry(
    client: httpx.AsyncClient, office: Office, path: str, words: str
) -> None:
    assert (await client.get(path)).status_code == 303
    await login(client, office.email)
    response = await client.get(path)
    assert response.status_code == 200
    text = body(response)
    assert text.count('aria-current="page"') >= 1
    assert f'aria-current="page">{words}</a>' in text
    for _, other in PAGES:
        if other != words:
            assert f'aria-current="page">{other}</a>' not in text
    assert 'action="/agent/deconnexion"' in text
    assert "Referent0 Test" in text
    assert response.headers["cache-control"] == "no-store"
    assert "style=" not in response.text  # the CSP forbids inline styles


async def test_home_goes_to_the_agenda(client: httpx.AsyncClient, office: Office) -> None:
    await login(client, office.email)
    response = await client.get("/agent")
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/agenda"


async def test_a_cancelled_appointment_keeps_its_status(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s = office.s
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Annule",
        appointment_by_on=date(2026, 12, 20),
    )
    starts = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    booked = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": starts.isoformat(),
            "journey_id": str(journey),
            "referent_id": str(s.referent_ids[0]),
        },
        headers=s.auth(),
    )
    appointment = booked.json()["id"]
    cancelled = await client.post(
        f"/api/v1/appointments/{appointment}/cancel", json={"by": "person"}, headers=s.auth()
    )
    assert cancelled.status_code == 200, cancelled.text
    clock.set(starts + timedelta(minutes=10))
    await login(client, office.email)
    page = await client.get("/agent/agenda")
    assert "Annulé par la personne" in body(page)
    assert f"/agent/rendez-vous/{appointment}/statut" not in page.text  # no buttons
    refused = await client.post(
        f"/agent/rendez-vous/{appointment}/statut",
        data={"csrf_token": csrf(page.text), "status": "noshow"},
    )
    assert refused.status_code == 422
    assert "Ce rendez-vous est annulé" in body(refused)
