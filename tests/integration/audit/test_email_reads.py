"""E-mails to agents that name people write the audit trail when they are written to the
outbox, once: the referents' deadline alert (a planner pass, then a second pass)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.integration.web_office.office_support import add_cohort, add_journey
from tests.support import scenario as sc

from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as invitations
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey


async def test_the_deadline_alert_names_people_once(db: Database, clock: FrozenClock) -> None:
    s = await sc.build(db, clock, slug="laon")
    referent = s.referent_ids[0]
    cohort = await add_cohort(db, clock, s)
    near = [
        await add_journey(
            db,
            clock,
            territory_id=s.territory_id,
            cohort_id=cohort,
            last_name=name,
            appointment_by_on=date(2026, 12, 5),
            referent_id=referent,
        )
        for name in ("Proche", "Voisine")
    ]
    await add_journey(  # its deadline is far: not in the alert, not in the trail
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=cohort,
        last_name="Lointaine",
        appointment_by_on=date(2026, 12, 30),
        referent_id=referent,
    )
    for _ in range(2):
        await invitations.plan(db=db, clock=clock, secret_key=b"k" * 32)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        alerts = list(
            await uow.session.scalars(
                select(Notification.agent_id).where(Notification.name == "referent_deadline_alert")
            )
        )
        people = set(
            await uow.session.scalars(select(Journey.person_id).where(Journey.id.in_(near)))
        )
        lines = [
            (a, p, w)
            for a, p, w in await uow.session.execute(
                select(FileRead.agent_id, FileRead.person_id, FileRead.what)
            )
        ]
    assert alerts == [referent]
    assert sorted(lines, key=lambda x: str(x[1])) == sorted(
        [(referent, p, "email") for p in people], key=lambda x: str(x[1])
    )
