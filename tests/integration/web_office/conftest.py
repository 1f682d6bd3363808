"""Back-office fixtures (helpers in office_support.py)."""

from __future__ import annotations

import pytest
from tests.integration.web_office.office_support import Office, add_cohort, set_password
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database


@pytest.fixture
async def office(db: Database, clock: FrozenClock) -> Office:
    s = await sc.build(db, clock, slug="laon")
    other = await sc.build(db, clock, slug="autre")
    email = await set_password(db, clock, s.referent_ids[0])
    other_email = await set_password(db, clock, other.referent_ids[0])
    cohorts = [await add_cohort(db, clock, scen) for scen in (s, other)]
    return Office(s, email, other, other_email, cohorts[0], cohorts[1])
