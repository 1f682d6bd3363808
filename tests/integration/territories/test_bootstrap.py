"""A département sets up its territory without the demo: bootstrap, an API key, then partner
organisations through the API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.errors import Invalid
from rdv_spie.territories.bootstrap import bootstrap
from rdv_spie.territories.models import Territory

ARGS = {
    "slug": "guyane",
    "name": "Guyane — Cayenne",
    "timezone": "America/Cayenne",
    "holiday_zone": "guyane",
    "organisation": "Collectivité territoriale de Guyane",
    "kind": "departement",
    "admin_email": "Admin@CTG.example",
    "admin_first_name": "Ana",
    "admin_last_name": "Lima",
}


async def test_bootstrap_is_idempotent_and_gives_an_admin(
    db: Database, clock: FrozenClock, client: httpx.AsyncClient
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        first = await bootstrap(uow=uow, **ARGS)
    async with db.unit_of_work(clock=clock) as uow:
        again = await bootstrap(uow=uow, **ARGS)
        assert again == first
        counts = [
            await uow.session.scalar(select(func.count()).select_from(m))
            for m in (Territory, Agent, Membership)
        ]
        assert counts == [1, 1, 1]
        key = (await api_keys.create_api_key(uow=uow, agent_id=first.admin_id, label="t")).secret
    auth = {"Authorization": f"Bearer {key}"}
    r = await client.get(f"/api/v1/territories/{first.territory_id}", headers=auth)
    assert r.json()["timezone"] == "America/Cayenne"
    r = await client.post(
        "/api/v1/organisations",
        headers=auth,
        json={
            "territory_id": str(first.territory_id),
            "name": "France Travail Cayenne",
            "kind": "france_travail",
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/organisations",
        headers=auth,
        json={
            "territory_id": str(first.territory_id),
            "name": "France Travail Cayenne",
            "kind": "france_travail",
        },
    )
    assert r.status_code == 422 and r.json()["field"] == "name"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holiday_zone": "lune"}, "holiday_zone"),
        ({"kind": "club"}, "kind"),
        ({"admin_email": "nobody"}, "admin_email"),
    ],
)
async def test_bootstrap_refuses_bad_input(
    db: Database, clock: FrozenClock, change: dict[str, str], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        async with db.unit_of_work(clock=clock) as uow:
            await bootstrap(uow=uow, **{**ARGS, **change})
    assert caught.value.field == field
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Territory)) == 0
