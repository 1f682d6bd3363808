"""The canary tests' world: the scenario's territory with a CTO series (two partners who
accepted the charter), loopback SMTP and Twilio servers, and the app in production mode
(``debug`` off: a 500 is what a person would see)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar import Litestar
from tests.support import scenario as sc
from tests.support.cto import Cto, agent
from tests.support.loopback import _fresh_servers, flow_settings, jobs, smtp, twilio

from rdv_spie.agents.models import Role
from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Organisation, OrganisationKind

__all__ = ["_fresh_servers", "app", "cto", "flow_settings", "jobs", "smtp", "twilio"]


@pytest.fixture
def app(flow_settings: Settings, db: Database, clock: FrozenClock) -> Litestar:
    production = flow_settings.model_copy(update={"debug": False})
    return create_app(production, Overrides(clock=clock, database=db))


@pytest.fixture
async def cto(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> Cto:
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        partner_org = Organisation(
            territory_id=s.territory_id, name="France Travail", kind=OrganisationKind.FRANCE_TRAVAIL
        )
        uow.session.add(partner_org)
        await uow.session.flush()
        partners = [
            await agent(uow, s, partner_org.id, f"partenaire{i}", Role.PARTNER) for i in range(2)
        ]
    c = Cto(s, client, db, clock, partner_org.id, partners, partner_org.id, partners[0])
    r = await client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "CTO du Test",
            "starts_on": "2026-12-10",
            "place_id": str(s.place_ids[0]),
        },
    )
    assert r.status_code == 201, r.text
    c.series_id = uuid.UUID(r.json()["id"])
    for partner in partners:
        body = {"agent_id": str(partner), "charter_accepted_on": "2026-11-20"}
        r = await client.post(
            f"/api/v1/cto-series/{c.series_id}/members", headers=c.animator, json=body
        )
        assert r.status_code == 201, r.text
    return c
