"""An API key's last use is stamped after the response, in its own transaction, at most once
per ``USE_PRECISION``: the admins' keys page lists it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from tests.support import scenario as sc

from rdv_spie.agents.api_keys import USE_PRECISION
from rdv_spie.agents.models import ApiKey
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database


async def _last_used(db: Database, clock: FrozenClock, agent_id: object) -> list[object]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(
            await uow.session.scalars(
                select(ApiKey.last_used_at).where(ApiKey.agent_id == agent_id)
            )
        )


async def test_a_key_s_last_use_is_stamped_once_per_period(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, slug="cles")
    assert await _last_used(db, clock, s.admin_id) == [None]

    first = clock.now()
    assert (await client.get("/api/v1/territories", headers=s.auth())).status_code == 200
    assert await _last_used(db, clock, s.admin_id) == [first]

    clock.advance(USE_PRECISION - timedelta(seconds=1))  # a read soon after: no write
    assert (await client.get("/api/v1/territories", headers=s.auth())).status_code == 200
    assert await _last_used(db, clock, s.admin_id) == [first]

    clock.advance(timedelta(seconds=1))
    later = clock.now()
    assert (await client.get("/api/v1/places", headers=s.auth())).status_code == 200
    assert await _last_used(db, clock, s.admin_id) == [later]

    # A refused key stamps nothing; another agent's key is not touched.
    assert (
        await client.get("/api/v1/places", headers={"Authorization": "Bearer rdv_x"})
    ).status_code == 401
    assert await _last_used(db, clock, s.referent_ids[0]) == [None]
