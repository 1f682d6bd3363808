"""The back-office pages that show people write the audit trail: the agenda, the people to
follow, the booking search and one person's booking page; another organisation's person
leaves no line (their page is a 404)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

import httpx
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    add_journey,
    body,
    book_journey,
    login,
    office_journey,
)

from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey

Line = tuple[uuid.UUID, uuid.UUID, str]


async def lines(db: Database, clock: FrozenClock) -> Counter[Line]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(FileRead.agent_id, FileRead.person_id, FileRead.what)
        )
        return Counter((a, p, w) for a, p, w in rows)


async def person_of(db: Database, clock: FrozenClock, journey_id: uuid.UUID) -> uuid.UUID:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        return journey.person_id


async def test_pages_that_show_people_are_in_the_trail(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s, me = office.s, office.s.referent_ids[0]
    near = await office_journey(
        db,
        clock,
        office,
        last_name="Proche",
        appointment_by_on=date(2026, 12, 5),
        referent_id=me,
    )
    booked = await office_journey(
        db,
        clock,
        office,
        last_name="Reservee",
        appointment_by_on=date(2026, 12, 20),
    )
    foreign = await add_journey(
        db,
        clock,
        territory_id=office.other.territory_id,
        cohort_id=office.other_cohort_id,
        last_name="Etrangere",
        appointment_by_on=date(2026, 12, 5),
    )
    response = await book_journey(client, s, booked, referent_id=me)
    assert response.status_code == 201, response.text
    near_person = await person_of(db, clock, near)
    booked_person = await person_of(db, clock, booked)
    await login(client, office.email)
    assert await lines(db, clock) == Counter()  # logging in reads nobody

    async def step(path: str, status: int = 200) -> set[Line]:
        before = await lines(db, clock)
        response = await client.get(path)
        assert response.status_code == status
        shown[path] = body(response)
        added = await lines(db, clock) - before
        assert all(n == 1 for n in added.values())  # each person once per page
        return set(added)

    shown: dict[str, str] = {}
    assert await step("/agent/agenda?semaine=2026-11-30") == {(me, booked_person, "agenda")}
    assert "Camille Reservee" in shown["/agent/agenda?semaine=2026-11-30"]
    # Every showing counts: the team view is one more line.
    assert await step("/agent/agenda?semaine=2026-11-30&equipe=1") == {
        (me, booked_person, "agenda")
    }
    assert await step("/agent/personnes") == {(me, near_person, "people_to_follow")}
    assert "Camille Proche" in shown["/agent/personnes"]
    assert await step("/agent/prise-de-rdv?q=proche") == {(me, near_person, "journey_search")}
    assert await step(f"/agent/prise-de-rdv?parcours={near}") == {(me, near_person, "journey")}
    assert await step(f"/agent/prise-de-rdv?parcours={foreign}", 404) == set()
    assert await person_of(db, clock, foreign) not in {p for _, p, _ in await lines(db, clock)}
