"""After the retention purge the agenda shows an erased person's appointment without a name,
writes no audit line for them, and the people lists leave them out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import (
    Office,
    body,
    book_journey,
    login,
    office_journey,
)

from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.privacy import retention


async def test_an_erased_person_on_the_back_office_pages(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s, me = office.s, office.s.referent_ids[0]
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Effacee",
        appointment_by_on=date(2026, 12, 20),
        referent_id=me,
    )
    booked = await book_journey(client, s, journey, referent_id=me)
    assert booked.status_code == 201, booked.text
    await login(client, office.email)
    week = "/agent/agenda?semaine=2026-11-30"
    assert "Camille Effacee" in body(await client.get(week))
    clock.set(datetime(2029, 1, 1, 9, tzinfo=UTC))
    assert await retention.purge(db, clock, keep_days=730) >= 1
    await login(client, office.email)  # the session of 2026 has long expired
    async with db.unit_of_work(clock=clock, write=False) as uow:
        lines_before = await uow.session.scalar(select(func.count()).select_from(FileRead))
    page = body(await client.get(week))
    assert "Données de la personne effacées" in page and "Effacee" not in page
    assert "Effacee" not in body(await client.get("/agent/prise-de-rdv?q=effa"))
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(FileRead)) == lines_before
    assert (await client.get(f"/agent/prise-de-rdv?parcours={journey}")).status_code == 404
