"""A cohort's name is unique on its territory, even when two agents create it at the same
instant: one 201, the others a clean 422 on ``name`` (never the unique constraint's 500), and
one row. Renaming two cohorts to one name at once: the same."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort


async def test_simultaneous_creations_of_one_name(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    body = {
        "territory_id": str(s.territory_id),
        "name": "Allocataires du RSA",
        "appointment_type_id": str(s.single_type_id),
        "organisation_id": str(s.organisation_id),
    }
    answers = await asyncio.gather(
        *(client.post("/api/v1/cohorts/", json=body, headers=s.auth()) for _ in range(6))
    )
    assert Counter(r.status_code for r in answers) == {201: 1, 422: 5}
    assert all(r.json()["field"] == "name" for r in answers if r.status_code == 422)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(Cohort).where(Cohort.name == body["name"])
        )
    assert count == 1

    first = await intake.create_cohort(client, s, name="Jeunes")
    second = await intake.create_cohort(client, s, name="Parents isolés")
    renames = await asyncio.gather(
        *(
            client.patch(f"/api/v1/cohorts/{c}", json={"name": "Tous"}, headers=s.auth())
            for c in (first, second)
        )
    )
    assert sorted(r.status_code for r in renames) == [200, 422]
