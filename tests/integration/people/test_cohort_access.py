"""Who sees a cohort: the staff of its structure (never its partners) and the team of its
territory (admins and animators of any structure there); anyone else gets the same 404 as for
an unknown id, for the cohort, its journeys, its imports and its people batch. And a person's
link locked by wrong answers: shown in the cohort's journeys, unlocked through the API by an
agent who follows the journey, after which the person can answer again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from tests.integration.web_public import browsing as b
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.territories.models import Organisation, OrganisationKind

CSV = "Nom;Prénom;Téléphone\r\nMartin;Léa;06 12 34 56 78\r\n".encode()
PERSON = {"people": [{"first_name": "Léa", "last_name": "Martin", "phone": "0612345678"}]}


@dataclass
class Agents:
    """API headers of each agent the tests try, by a short name."""

    s: sc.Scenario
    headers: dict[str, dict[str, str]]


async def _member(
    db: Database, clock: FrozenClock, org_id: uuid.UUID, name: str, role: Role
) -> dict[str, str]:
    async with db.unit_of_work(clock=clock) as uow:
        agent = Agent(email=f"{name}@acces.test", first_name=name.title(), last_name="Test")
        uow.session.add(agent)
        await uow.session.flush()
        uow.session.add(Membership(agent_id=agent.id, organisation_id=org_id, role=role))
        key = await api_keys.create_api_key(uow=uow, agent_id=agent.id, label="test")
    return {"Authorization": f"Bearer {key.secret}"}


@pytest.fixture
async def agents(db: Database, clock: FrozenClock) -> Agents:
    """Organisation A (the scenario's Département) and B (a mission locale) on one territory,
    and an admin of another territory."""
    s = await sc.build(db, clock)
    other = await sc.build(db, clock, slug="other")
    async with db.unit_of_work(clock=clock) as uow:
        org_b = Organisation(
            territory_id=s.territory_id,
            name="Mission locale",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        uow.session.add(org_b)
        await uow.session.flush()
    headers = {
        "admin A": s.auth(),
        "animator A": s.auth(s.animator_id),
        "referent A": s.auth(s.referent_ids[0]),
        "partner A": await _member(db, clock, s.organisation_id, "partner-a", Role.PARTNER),
        "admin B": await _member(db, clock, org_b.id, "admin-b", Role.ADMIN),
        "animator B": await _member(db, clock, org_b.id, "animator-b", Role.ANIMATOR),
        "referent B": await _member(db, clock, org_b.id, "referent-b", Role.REFERENT),
        "partner B": await _member(db, clock, org_b.id, "partner-b", Role.PARTNER),
        "admin of another territory": other.auth(),
    }
    return Agents(s, headers)


async def _reads(
    client: httpx.AsyncClient, cohort: uuid.UUID, headers: dict[str, str]
) -> list[httpx.Response]:
    return [
        await client.get(f"/api/v1/cohorts/{cohort}", headers=headers),
        await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=headers),
    ]


async def _writes(
    client: httpx.AsyncClient, cohort: uuid.UUID, headers: dict[str, str]
) -> list[httpx.Response]:
    return [
        await client.post(
            f"/api/v1/cohorts/{cohort}/imports",
            content=CSV,
            headers={**headers, "Content-Type": "text/csv"},
        ),
        await client.post(f"/api/v1/cohorts/{cohort}/people", json=PERSON, headers=headers),
        await client.patch(
            f"/api/v1/cohorts/{cohort}", json={"entry_delay_days": 20}, headers=headers
        ),
    ]


SEES_A = {"admin A", "animator A", "referent A", "admin B", "animator B"}
SEES_NONE = {"admin A", "animator A", "admin B", "animator B"}  # the territory team
TEAM = SEES_NONE


async def test_a_cohort_is_seen_by_its_structure_and_the_territory_team(
    client: httpx.AsyncClient, agents: Agents
) -> None:
    s = agents.s
    cohort_a = await intake.create_cohort(client, s, name="Cohorte A")
    cohort_none = await intake.create_cohort(client, s, name="Sans structure", organisation_id=None)
    unknown = uuid.uuid4()
    [not_found, _] = await _reads(client, unknown, s.auth())
    assert not_found.status_code == 404
    names = {cohort_a: "Cohorte A", cohort_none: "Sans structure"}
    table = []
    for who, headers in agents.headers.items():
        listed = await client.get("/api/v1/cohorts/", headers=headers)
        assert listed.status_code == 200, (who, listed.text)
        seen = {c["name"] for c in listed.json()}
        assert seen == {name for c, name in names.items() if who in _seers(c, cohort_a)}, who
        for cohort in names:
            allowed = who in _seers(cohort, cohort_a)
            reads = await _reads(client, cohort, headers)
            writes = await _writes(client, cohort, headers)
            table.append((who, names[cohort], [r.status_code for r in reads + writes]))
            if allowed:
                assert [r.status_code for r in reads] == [200, 200], (who, cohort)
                expected = [200, 200, 200] if who in TEAM else [403, 403, 403]
                assert [r.status_code for r in writes] == expected, (who, cohort)
            else:
                for r in reads + writes:
                    assert (r.status_code, r.json()) == (404, not_found.json()), (who, r.url)
    print("\nwho / cohort / GET, GET journeys, POST imports, POST people, PATCH")
    for row in table:
        print(*row, sep=" | ")


def _seers(cohort: uuid.UUID, cohort_a: uuid.UUID) -> set[str]:
    return SEES_A if cohort == cohort_a else SEES_NONE


async def test_a_locked_link_is_listed_and_unlocked_through_the_api(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    agents: Agents,
) -> None:
    s = agents.s
    cohort = await b.cohort(db, clock, s)
    invited = await b.invite(db, clock, app, s, cohort)
    unlock = f"/api/v1/journeys/{invited.journey_id}/unlock"

    async def locked() -> bool:
        r = await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())
        assert r.status_code == 200, r.text
        [journey] = r.json()
        assert journey["id"] == str(invited.journey_id)
        return bool(journey["identity_locked"])

    assert not await locked()
    async with b.browser(app) as person:
        await b.open_link(person, invited.token)
        for _ in range(5):
            wrong = await b.answer(person, "MAR")
        assert wrong.status_code == 403 and "Ce lien est bloqué" in wrong.text
    assert await locked()

    # Agents who do not follow the journey: the same 404 as an unknown journey.
    unknown = await client.post(f"/api/v1/journeys/{uuid.uuid4()}/unlock", headers=s.auth())
    assert unknown.status_code == 404
    for who in ("partner A", "referent B", "admin B", "admin of another territory"):
        r = await client.post(unlock, headers=agents.headers[who])
        assert (r.status_code, r.json()) == (404, unknown.json()), who
    assert await locked()

    r = await client.post(unlock, headers=agents.headers["referent A"])
    assert r.status_code == 204 and r.content == b""
    assert not await locked()
    async with b.browser(app) as person:
        await b.open_link(person, invited.token)
        page = await person.get("/rdv")
        assert page.status_code == 200 and "Ce lien est bloqué" not in page.text
        wrong = await b.answer(person, "MAR")
        assert wrong.status_code == 422 and "Il vous reste 4 essais" in wrong.text
        right = await b.answer(person, "DUP")
        assert right.status_code == 303 and right.headers["location"] == "/rdv"
        assert (await person.get("/rdv")).headers["location"] == "/rdv/creneaux"
    # Unlocking a journey that is not locked changes nothing and says so the same way.
    assert (await client.post(unlock, headers=s.auth())).status_code == 204
