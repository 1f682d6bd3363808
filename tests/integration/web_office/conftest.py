"""Back-office fixtures (helpers in office_support.py)."""

from __future__ import annotations

import pytest
from tests.integration.web_office.office_support import Office, set_password
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort


@pytest.fixture
async def office(db: Database, clock: FrozenClock) -> Office:
    s = await sc.build(db, clock, slug="laon")
    other = await sc.build(db, clock, slug="autre")
    email = await set_password(db, clock, s.referent_ids[0])
    other_email = await set_password(db, clock, other.referent_ids[0])
    async with db.unit_of_work(clock=clock) as uow:
        cohorts = []
        for scen in (s, other):
            cohort = Cohort(
                territory_id=scen.territory_id,
                name="Jeunes 18-30 ans",
                appointment_type_id=scen.single_type_id,
                organisation_id=scen.organisation_id,
                deadline_alert_days=7,
            )
            uow.session.add(cohort)
            cohorts.append(cohort)
        await uow.session.flush()
    return Office(s, email, other, other_email, cohorts[0].id, cohorts[1].id)
