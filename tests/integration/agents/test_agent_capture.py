"""Adding an agent through the API grants nothing over someone who already works elsewhere:
an admin adds new people, or people who belong only to organisations that admin runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support import scenario as sc

from rdv_spie.agents.models import Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.territories.models import Organisation, OrganisationKind

Client = httpx.AsyncClient
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 2 December, 09:00 in Paris


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def _add(
    client: Client, headers: dict[str, str], organisation: uuid.UUID, email: str, role: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/agents",
        headers=headers,
        json={
            "organisation_id": str(organisation),
            "role": role,
            "email": email,
            "first_name": "Camille",
            "last_name": "Martin",
        },
    )


async def _memberships(db: Database, clock: FrozenClock, agent: uuid.UUID) -> set[Any]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.scalars(select(Membership).where(Membership.agent_id == agent))
        return {(m.organisation_id, m.role) for m in rows}


async def _second_organisation(
    db: Database, clock: FrozenClock, s: sc.Scenario, *, admin: uuid.UUID, role: Role
) -> uuid.UUID:
    """Another structure on the scenario's territory, where ``admin`` has ``role``."""
    async with db.unit_of_work(clock=clock) as uow:
        org = Organisation(
            territory_id=s.territory_id, name="Mission locale", kind=OrganisationKind.MISSION_LOCALE
        )
        uow.session.add(org)
        await uow.session.flush()
        uow.session.add(Membership(agent_id=admin, organisation_id=org.id, role=role))
        return org.id


async def test_a_referent_of_another_territory_cannot_be_captured(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    other = await sc.build(db, clock, slug="other")
    target = other.referent_ids[0]
    booked = await client.post(
        "/api/v1/appointments",
        headers=other.auth(),
        json={
            "appointment_type_id": str(other.single_type_id),
            "place_id": str(other.place_ids[0]),
            "starts_at": WED_0900.isoformat(),
            "referent_id": str(target),
        },
    )
    assert booked.status_code == 201, booked.text
    before = await _memberships(db, clock, target)

    r = await _add(client, s.auth(), s.organisation_id, "Referent0@Other.test", "referent")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "agent_exists_elsewhere" and problem["field"] == "email"
    assert "admin of an organisation they already belong to" in problem["detail"]
    # Nothing written, nothing granted.
    assert await _memberships(db, clock, target) == before
    listed = (await client.get("/api/v1/agents", headers=s.auth())).json()
    assert str(target) not in {a["id"] for a in listed}
    assert (await client.get(f"/api/v1/agents/{target}", headers=s.auth())).status_code == 404
    seen = await client.get(f"/api/v1/appointments/{booked.json()['id']}", headers=s.auth())
    assert seen.status_code == 404
    rules = await client.get(
        "/api/v1/availability-rules", headers=s.auth(), params={"agent_id": str(target)}
    )
    assert rules.status_code == 404 or rules.json() == []
    away = await client.post(
        "/api/v1/absences",
        headers=s.auth(),
        json={
            "agent_id": str(target),
            "starts_at": "2026-12-03T09:00:00+01:00",
            "ends_at": "2026-12-03T10:00:00+01:00",
        },
    )
    assert away.status_code == 404


async def test_someone_also_in_an_organisation_the_caller_does_not_administer(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    # The admin of A is a mere referent of the mission locale, where Camille also works.
    ml = await _second_organisation(db, clock, s, admin=s.admin_id, role=Role.REFERENT)
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=s.animator_id, organisation_id=ml, role=Role.ADMIN))
    made = await _add(client, s.auth(s.animator_id), ml, "camille@ml.test", "referent")
    assert made.status_code == 201, made.text
    r = await _add(client, s.auth(), s.organisation_id, "camille@ml.test", "referent")
    assert r.status_code == 409 and r.json()["code"] == "agent_exists_elsewhere"


async def test_adding_your_own_referent_to_your_second_organisation(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    ml = await _second_organisation(db, clock, s, admin=s.admin_id, role=Role.ADMIN)
    referent = s.referent_ids[0]
    r = await _add(client, s.auth(), ml, "referent0@test.test", "animator")
    assert r.status_code == 201, r.text
    assert r.json()["id"] == str(referent)
    assert await _memberships(db, clock, referent) == {
        (s.organisation_id, Role.REFERENT),
        (ml, Role.ANIMATOR),
    }
    again = await _add(client, s.auth(), ml, "referent0@test.test", "referent")
    assert again.status_code == 422 and again.json()["code"] == "duplicate"
    # A brand-new person is created as before.
    new = await _add(client, s.auth(), s.organisation_id, "nouvelle@test.test", "referent")
    assert new.status_code == 201, new.text


async def test_only_organisations_the_caller_administers(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    other = await sc.build(db, clock, slug="other")
    # Another territory's organisation, and a structure of the same territory: unknown.
    r = await _add(client, s.auth(), other.organisation_id, "nouvelle@test.test", "admin")
    assert r.status_code == 404 and r.json()["field"] == "organisation_id"
    ml = await _second_organisation(db, clock, s, admin=s.animator_id, role=Role.ADMIN)
    r = await _add(client, s.auth(), ml, "nouvelle@test.test", "admin")
    assert r.status_code == 404 and r.json()["field"] == "organisation_id"
    # A member who does not administer it: refused.
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=s.admin_id, organisation_id=ml, role=Role.REFERENT))
    r = await _add(client, s.auth(), ml, "nouvelle@test.test", "admin")
    assert r.status_code == 403 and r.json()["field"] == "organisation_id"
    r = await _add(client, s.auth(s.animator_id), s.organisation_id, "x@test.test", "admin")
    assert r.status_code == 403
    async with db.unit_of_work(clock=clock, write=False) as uow:
        emails = await uow.session.scalars(select(Membership.agent_id))
        assert len(set(emails)) == 8  # the two scenarios' agents, no one added
