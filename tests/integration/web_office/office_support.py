"""Back-office test helpers: a territory (tests/support/scenario.py) whose first referent has a
password, another organisation on another territory, people with open journeys, and a
browser-like client that logs in through the form."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import date

import httpx
from tests.support import scenario as sc

from rdv_spie.agents.models import Agent
from rdv_spie.agents.passwords import hash_password
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort, Journey, Person

PASSWORD = "un mot de passe assez long"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def body(response: httpx.Response) -> str:
    """A page's text with HTML entities decoded (the templates escape apostrophes)."""
    return html.unescape(response.text)


def csrf(page: str) -> str:
    """The form token of a page."""
    found = _CSRF.search(page)
    assert found, "no form token on the page"
    return found.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Open the login form, then post it (as a browser does)."""
    page = await client.get("/agent/connexion")
    return await client.post(
        "/agent/connexion",
        data={"csrf_token": csrf(page.text), "email": email, "password": password},
    )


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str | list[str]], *, token_from: str
) -> httpx.Response:
    """Post a form with the token of a page the browser just read."""
    page = await client.get(token_from)
    return await client.post(path, data={"csrf_token": csrf(page.text), **data})


async def act_for(client: httpx.AsyncClient, organisation_id: uuid.UUID) -> httpx.Response:
    """Choose the organisation the logged-in agent acts for (the header's "Changer de
    structure")."""
    response = await post_form(
        client,
        "/agent/structure",
        {"organisation_id": str(organisation_id)},
        token_from="/agent/structure",
    )
    assert response.status_code == 303, response.text
    return response


async def set_password(db: Database, clock: FrozenClock, agent_id: uuid.UUID) -> str:
    async with db.unit_of_work(clock=clock) as uow:
        agent = await uow.session.get(Agent, agent_id)
        assert agent is not None
        agent.password_hash = hash_password(PASSWORD)
        return agent.email


@dataclass
class Office:
    s: sc.Scenario
    email: str  # referent 0, who has a password
    other: sc.Scenario  # another organisation, on another territory
    other_email: str
    cohort_id: uuid.UUID
    other_cohort_id: uuid.UUID


async def add_cohort(db: Database, clock: FrozenClock, s: sc.Scenario) -> uuid.UUID:
    """A cohort of the scenario's organisation, first appointments of the single type, deadline
    alerts 7 days ahead."""
    async with db.unit_of_work(clock=clock) as uow:
        cohort = Cohort(
            territory_id=s.territory_id,
            name="Jeunes 18-30 ans",
            appointment_type_id=s.single_type_id,
            organisation_id=s.organisation_id,
            deadline_alert_days=7,
        )
        uow.session.add(cohort)
        await uow.session.flush()
        return cohort.id


async def add_journey(
    db: Database,
    clock: FrozenClock,
    *,
    territory_id: uuid.UUID,
    cohort_id: uuid.UUID,
    last_name: str,
    appointment_by_on: date,
    referent_id: uuid.UUID | None = None,
    locked: bool = False,
) -> uuid.UUID:
    """A person (e-mail consent given) and their open journey."""
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(
            territory_id=territory_id,
            first_name="Camille",
            last_name=last_name,
            email=f"{last_name.lower()}@exemple.fr",
            email_consent=True,
        )
        uow.session.add(person)
        await uow.session.flush()
        journey = Journey(
            territory_id=territory_id,
            person_id=person.id,
            cohort_id=cohort_id,
            referent_id=referent_id,
            entered_on=date(2026, 11, 10),
            invite_by_on=date(2026, 11, 13),
            appointment_by_on=appointment_by_on,
            identity_failures=5 if locked else 0,
            identity_locked_at=clock.now() if locked else None,
        )
        uow.session.add(journey)
        await uow.session.flush()
        return journey.id


async def office_journey(
    db: Database,
    clock: FrozenClock,
    office: Office,
    *,
    last_name: str,
    appointment_by_on: date = date(2026, 12, 20),
    referent_id: uuid.UUID | None = None,
    locked: bool = False,
) -> uuid.UUID:
    """A person and their open journey in the office's own territory and cohort."""
    return await add_journey(
        db,
        clock,
        territory_id=office.s.territory_id,
        cohort_id=office.cohort_id,
        last_name=last_name,
        appointment_by_on=appointment_by_on,
        referent_id=referent_id,
        locked=locked,
    )


async def book_journey(
    client: httpx.AsyncClient,
    s: sc.Scenario,
    journey_id: uuid.UUID,
    *,
    starts_at: str = "2026-12-03T09:00:00Z",
    referent_id: uuid.UUID | None = None,
) -> httpx.Response:
    """Book the single type at the first place for a journey, through the API as the admin."""
    return await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": starts_at,
            "journey_id": str(journey_id),
            **({"referent_id": str(referent_id)} if referent_id else {}),
        },
        headers=s.auth(),
    )
