"""A re-import writes only what changed, on both engines: the people it matches are read as
plain rows (people/intake._known) and only those whose contacts changed are written, in one
statement per batch; the same file again writes no person and no journey."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person

HEADER = "Nom;Prénom;Téléphone;Courriel;N° CAF\r\n"
ROWS = [
    f"Nom{i};Prénom{i};06 12 34 {i // 100:02d} {i % 100:02d};;{1000 + i}\r\n" for i in range(40)
]


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


@contextmanager
def writes(db: Database) -> Iterator[list[str]]:
    """The INSERT and UPDATE statements on person and journey sent meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        head = " ".join(statement.split()[:3]).lower()
        if head.startswith(("insert into person", "update person", "insert into journey")):
            seen.append(head)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def _import(client: httpx.AsyncClient, s: sc.Scenario, cohort: Any, rows: list[str]) -> Any:
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=(HEADER + "".join(rows)).encode(),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_reimport_writes_only_what_changed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    assert (await _import(client, s, cohort, ROWS))["created"] == len(ROWS)

    with writes(db) as seen:
        again = await _import(client, s, cohort, ROWS)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(ROWS))
    assert again["journeys_opened"] == 0
    assert seen == []

    changed = list(ROWS)
    changed[3] = "Nom3;Prénom3;07 81 22 33 44;nom3@exemple.fr;1003\r\n"
    changed[7] = "Nom7;Prénom7;06 12 34 00 07;nom7@exemple.fr;1007\r\n"
    with writes(db) as seen:
        report = await _import(client, s, cohort, changed)
    assert (report["created"], report["updated"], report["rejected_rows"]) == (0, 2, 0)
    assert seen == ["update person set"]  # one statement for the batch
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = {
            p.caf_number: p
            for p in await uow.session.scalars(
                select(Person).where(Person.caf_number.in_(["1003", "1007", "1008"]))
            )
        }
    assert (found["1003"].phone, found["1003"].email) == ("+33781223344", "nom3@exemple.fr")
    assert (found["1007"].phone, found["1007"].email) == ("+33612340007", "nom7@exemple.fr")
    assert found["1008"].email is None
