"""A referent's availability changes the slots (the page's preview and the public API), and
the agenda records what happened once an appointment has started."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    body,
    csrf,
    login,
    office_journey,
    post_form,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import Appointment, AvailabilityRule

AVAILABILITY = "/agent/disponibilites"


async def api_slots(client: httpx.AsyncClient, office: Office, day: date) -> list[dict[str, Any]]:
    """The public API's slots of the single type on one day (UTC bounds are wide enough)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    response = await client.get(
        "/api/v1/slots/",
        params={
            "appointment_type_id": str(office.s.single_type_id),
            "from": start.isoformat(),
            "to": (start + timedelta(days=1)).isoformat(),
        },
        headers=office.s.auth(),
    )
    assert response.status_code == 200, body(response)
    slots: list[dict[str, Any]] = response.json()
    return slots


def preview_count(html: str, type_name: str = "Premier rendez-vous") -> int:
    found = re.search(rf"<h3>{type_name}</h3>\s*<p>(\d+) créneau", html)
    return int(found.group(1)) if found else 0


async def test_adding_a_rule_opens_slots(client: httpx.AsyncClient, office: Office) -> None:
    await login(client, office.email)
    saturday = date(2026, 12, 5)
    assert await api_slots(client, office, saturday) == []
    before = preview_count(body(await client.get(AVAILABILITY)))
    response = await post_form(
        client,
        f"{AVAILABILITY}/plages",
        {
            "weekdays": ["5"],
            "start_time": "09:00",
            "end_time": "11:00",
            "place_id": str(office.s.place_ids[0]),
            "appointment_type_ids": [str(office.s.single_type_id)],
            "valid_from": "2026-12-01",
        },
        token_from=AVAILABILITY,
    )
    assert response.status_code == 303, body(response)
    page = await client.get(response.headers["location"])
    assert "La plage d'ouverture est enregistrée" in body(page)
    assert "samedi" in body(page)
    # 09:00, 09:15 … 10:15 (45 min + 15 min buffer fits until 11:00), this Saturday and next.
    assert preview_count(body(page)) == before + 2 * 6
    slots = await api_slots(client, office, saturday)
    assert [s["local_start"][11:16] for s in slots] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
    ]


async def test_a_refused_rule_is_explained_next_to_the_field(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await login(client, office.email)
    base = {
        "weekdays": ["0"],
        "place_id": str(office.s.place_ids[0]),
        "appointment_type_ids": [str(office.s.single_type_id)],
        "valid_from": "2026-12-01",
    }
    overlap = await post_form(
        client,
        f"{AVAILABILITY}/plages",
        {**base, "start_time": "10:00", "end_time": "11:00"},
        token_from=AVAILABILITY,
    )
    assert overlap.status_code == 422
    assert "chevauche une de vos plages" in body(overlap)
    assert 'id="start_time" name="start_time" value="10:00"' in body(overlap)
    backwards = await post_form(
        client,
        f"{AVAILABILITY}/plages",
        {**base, "weekdays": ["6"], "start_time": "14:00", "end_time": "13:00"},
        token_from=AVAILABILITY,
    )
    assert backwards.status_code == 422
    assert "L'heure de fin doit être après l'heure de début" in body(backwards)
    no_day = await post_form(
        client,
        f"{AVAILABILITY}/plages",
        {**base, "weekdays": [], "start_time": "14:00", "end_time": "15:00"},
        token_from=AVAILABILITY,
    )
    assert "Cochez au moins un jour" in body(no_day)
    async with db.unit_of_work(clock=clock) as uow:
        rules = await uow.session.scalars(
            select(AvailabilityRule).where(AvailabilityRule.agent_id == office.s.referent_ids[0])
        )
        assert len(rules.all()) == 1  # the scenario's only


async def test_an_absence_closes_slots_and_deleting_it_reopens_them(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    wednesday = date(2026, 12, 2)
    before = await api_slots(client, office, wednesday)
    assert before and all(s["free_referents"] == 2 for s in before)
    preview_before = preview_count(body(await client.get(AVAILABILITY)))
    response = await post_form(
        client,
        f"{AVAILABILITY}/absences",
        {"starts_at": "2026-12-02T08:00", "ends_at": "2026-12-02T13:00", "title": "Formation"},
        token_from=AVAILABILITY,
    )
    assert response.status_code == 303, body(response)
    page = await client.get(AVAILABILITY)
    assert "Formation" in body(page)
    assert preview_count(body(page)) == preview_before - len(before)
    after = await api_slots(client, office, wednesday)
    assert [s["starts_at"] for s in after] == [s["starts_at"] for s in before]
    assert all(s["free_referents"] == 1 for s in after)
    absence_id = re.search(r"/absences/([0-9a-f-]{36})/suppression", body(page))
    assert absence_id
    deleted = await post_form(
        client,
        f"{AVAILABILITY}/absences/{absence_id.group(1)}/suppression",
        {},
        token_from=AVAILABILITY,
    )
    assert deleted.status_code == 303
    assert all(s["free_referents"] == 2 for s in await api_slots(client, office, wednesday))


async def test_an_absence_at_a_time_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    response = await post_form(
        client,
        f"{AVAILABILITY}/absences",
        {"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T05:00"},
        token_from=AVAILABILITY,
    )
    assert response.status_code == 422
    assert "changement d'heure" in body(response)


async def book_by_api(
    client: httpx.AsyncClient, office: Office, journey_id: uuid.UUID, starts_at: datetime
) -> str:
    response = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(office.s.single_type_id),
            "place_id": str(office.s.place_ids[0]),
            "starts_at": starts_at.isoformat(),
            "journey_id": str(journey_id),
            "referent_id": str(office.s.referent_ids[0]),
        },
        headers=office.s.auth(),
    )
    assert response.status_code == 201, body(response)
    return str(response.json()["id"])


async def test_marking_an_appointment_after_its_start(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Lefebvre",
        appointment_by_on=date(2026, 12, 20),
    )
    starts = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Paris
    appointment_id = await book_by_api(client, office, journey, starts)
    await login(client, office.email)
    week = "/agent/agenda?semaine=2026-12-02"  # any day of the week
    page = await client.get(week)
    assert "Camille Lefebvre" in body(page)
    assert "Mercredi 2 décembre" in body(page)
    assert f"/agent/rendez-vous/{appointment_id}/statut" not in body(page)  # not started
    path = f"/agent/rendez-vous/{appointment_id}/statut"
    early = await client.post(
        path, data={"csrf_token": csrf(body(page)), "status": "seen", "semaine": "2026-11-30"}
    )
    assert early.status_code == 422
    assert "n'a pas encore commencé" in body(early)
    clock.set(starts + timedelta(minutes=5))
    await login(client, office.email)  # a day later: the idle session has ended
    for status, words in (
        ("seen", "Venu"),
        ("noshow", "Absent (non excusé)"),
        ("excused", "Excusé"),
    ):
        page = await client.get(week)
        response = await client.post(
            path, data={"csrf_token": csrf(body(page)), "status": status, "semaine": "2026-11-30"}
        )
        assert response.status_code == 303, body(response)
        shown = await client.get(response.headers["location"])
        assert f'status-{status}">{words}<' in body(shown)
        async with db.unit_of_work(clock=clock) as uow:
            row = await uow.session.get(Appointment, uuid.UUID(appointment_id))
            assert row is not None and row.status == status


async def test_the_team_view_shows_colleagues(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Girard",
        appointment_by_on=date(2026, 12, 20),
    )
    response = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(office.s.single_type_id),
            "place_id": str(office.s.place_ids[0]),
            "starts_at": "2026-12-03T09:00:00Z",
            "journey_id": str(journey),
            "referent_id": str(office.s.referent_ids[1]),
        },
        headers=office.s.auth(),
    )
    assert response.status_code == 201
    await login(client, office.email)
    assert "Girard" not in body(await client.get("/agent/agenda?semaine=2026-11-30"))
    team = await client.get("/agent/agenda?semaine=2026-11-30&equipe=1")
    assert "Camille Girard" in body(team)
    assert "Referent1 Test" in body(team)
