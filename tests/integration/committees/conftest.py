"""A territory with a CTO series: the scenario's Département (referents, animator, admin), a
France Travail agency of partners (members; two accepted the charter), a mission locale with
its own referent, people with consent, and loopback SMTP and Twilio servers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from tests.support import scenario as sc
from tests.support.cto import Cto, agent
from tests.support.loopback import _fresh_servers, app, flow_settings, jobs, smtp, twilio

from rdv_spie.agents.models import Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.territories.models import Organisation, OrganisationKind

__all__ = ["_fresh_servers", "app", "cto", "flow_settings", "jobs", "smtp", "twilio"]
FIRST_THURSDAY = date(2026, 12, 10)  # sessions: 10 and 24 December, 7 January… 08:30 Paris


@pytest.fixture
async def cto(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> Cto:
    s = await sc.build(db, clock, slug="laon")
    async with db.unit_of_work(clock=clock) as uow:
        partner_org = Organisation(
            territory_id=s.territory_id,
            name="France Travail Laon",
            kind=OrganisationKind.FRANCE_TRAVAIL,
        )
        other_org = Organisation(
            territory_id=s.territory_id,
            name="Mission locale Laon",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        uow.session.add_all([partner_org, other_org])
        await uow.session.flush()
        partners = [
            await agent(uow, s, partner_org.id, f"partenaire{i}", Role.PARTNER) for i in range(3)
        ]
        other = await agent(uow, s, other_org.id, "referentml", Role.REFERENT)
    c = Cto(s, client, db, clock, partner_org.id, partners, other_org.id, other)
    r = await client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "Laon",
            "starts_on": FIRST_THURSDAY.isoformat(),
            "place_id": str(s.place_ids[0]),
            "video_url": "https://visio.example.org/cto-laon",
        },
    )
    assert r.status_code == 201, r.text
    c.series_id = uuid.UUID(r.json()["id"])
    for i, partner in enumerate(partners):
        body: dict[str, Any] = {"agent_id": str(partner)}
        if i < 2:
            body["charter_accepted_on"] = "2026-11-20"
        r = await client.post(
            f"/api/v1/cto-series/{c.series_id}/members", headers=c.animator, json=body
        )
        assert r.status_code == 201, r.text
    return c
