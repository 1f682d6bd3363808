"""The people a batch may match are looked up once per way of matching (people/intake._known:
external ids, e-mail, phone; on PostgreSQL each probed value by value through its index), so a
person found several ways comes back several times: they must count as one candidate, for the
import and for its preview, or the same file again would find them "several people"."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people import intake as people_intake
from rdv_spie.people.models import Person

HEADER = "Nom;Prénom;Téléphone;Courriel;N° CAF\r\n"
# Every way at once, e-mail and phone without an id, and one way only.
ROWS = [
    *(f"Nom{i};Prénom{i};06 12 34 00 {i:02d};nom{i}@exemple.fr;{2000 + i}\r\n" for i in range(5)),
    *(f"Nom{i};Prénom{i};06 12 34 00 {i:02d};nom{i}@exemple.fr;\r\n" for i in range(5, 10)),
    "Seul;Téléphone;06 12 34 00 10;;\r\n",
    "Seul;Courriel;;seul@exemple.fr;\r\n",
]


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def _import(client: httpx.AsyncClient, s: sc.Scenario, cohort: Any, rows: list[str]) -> Any:
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=(HEADER + "".join(rows)).encode(),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def _preview(
    db: Database, clock: FrozenClock, cohort: uuid.UUID, rows: list[str]
) -> people_intake.ImportReport:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        into = await people_intake.target(uow, cohort, None)
        parsed = people_intake.parse_all(
            (HEADER + "".join(rows)).encode(), region=into.region, today=clock.now().date()
        )
        return await people_intake.count_rows(uow, into, parsed)


async def test_a_person_found_several_ways_is_one_candidate(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    first = await _import(client, s, cohort, ROWS)
    assert (first["created"], first["rejected_rows"]) == (len(ROWS), 0)

    preview = await _preview(db, clock, cohort, ROWS)
    assert (preview.created, preview.updated, preview.unchanged) == (0, 0, len(ROWS))
    assert preview.rejected == []
    again = await _import(client, s, cohort, ROWS)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(ROWS))
    assert (again["rejected_rows"], again["journeys_opened"]) == (0, 0)

    # Found by e-mail and phone (no id): a new CAF number lands on that one person.
    changed = [*ROWS[:6], "Nom6;Prénom6;06 12 34 00 06;nom6@exemple.fr;3006\r\n", *ROWS[7:]]
    preview = await _preview(db, clock, cohort, changed)
    assert (preview.created, preview.updated, preview.unchanged) == (0, 1, len(ROWS) - 1)
    report = await _import(client, s, cohort, changed)
    assert (report["created"], report["updated"], report["rejected_rows"]) == (0, 1, 0)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = list(await uow.session.scalars(select(Person).where(Person.last_name == "Nom6")))
    assert [(p.caf_number, p.email) for p in found] == [("3006", "nom6@exemple.fr")]


async def test_a_batch_looks_people_and_journeys_up_in_one_statement_each(
    client: httpx.AsyncClient, db: Database, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    await _import(client, s, cohort, ROWS)
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().lower().startswith("select"):
            reads.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        again = await _import(client, s, cohort, ROWS)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    assert again["unchanged"] == len(ROWS)
    # One per way of matching, in one statement; then the journeys of the people found.
    assert len([r for r in reads if "FROM person" in r and r.count("UNION ALL") == 2]) == 1
    assert len([r for r in reads if "FROM journey" in r]) == 1
