"""A read unit of work (``write=False``) never writes, on both engines: an added, changed or
deleted object, an INSERT/UPDATE/DELETE statement or a lock raises, and nothing is written.
On PostgreSQL it runs without a transaction (no BEGIN, no COMMIT: two round trips less per
search), which is only safe because of this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import delete, func, insert, select, update
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database, ReadOnlyUnitOfWork, UnitOfWork
from rdv_spie.scheduling.models import Absence
from rdv_spie.territories.models import Place


async def _places(db: Database, clock: FrozenClock) -> list[tuple[str, bool]]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = (await uow.session.execute(select(Place.name, Place.active))).all()
    return sorted((name, active) for name, active in rows)


async def _rename(uow: UnitOfWork, s: sc.Scenario) -> None:
    place = await uow.session.get(Place, s.place_ids[0])
    assert place is not None
    place.name = "Renamed"
    await uow.session.flush()


async def _delete(uow: UnitOfWork, s: sc.Scenario) -> None:
    await uow.session.delete(await uow.session.get(Place, s.place_ids[1]))
    await uow.session.scalar(select(func.count()).select_from(Place))  # autoflush


async def _update(uow: UnitOfWork, s: sc.Scenario) -> None:
    await uow.session.execute(update(Place).values(active=False))


async def _delete_statement(uow: UnitOfWork, s: sc.Scenario) -> None:
    await uow.session.execute(delete(Absence))


async def _insert(uow: UnitOfWork, s: sc.Scenario) -> None:
    now = uow.clock.now()
    values = {"agent_id": s.referent_ids[0], "starts_at": now, "ends_at": now}
    await uow.session.execute(insert(Absence).values(**values))


async def _lock(uow: UnitOfWork, s: sc.Scenario) -> None:
    await uow.lock("agent:someone")


@pytest.mark.parametrize(
    "attempt",
    [_rename, _delete, _update, _delete_statement, _insert, _lock],
    ids=lambda f: f.__name__.strip("_"),
)
async def test_a_read_unit_of_work_refuses_every_write(
    db: Database, clock: FrozenClock, attempt: Callable[[UnitOfWork, sc.Scenario], Awaitable[None]]
) -> None:
    s = await sc.build(db, clock, places=2)
    before = await _places(db, clock)

    async def in_a_read() -> None:
        async with db.unit_of_work(clock=clock, write=False) as uow:
            await attempt(uow, s)

    with pytest.raises(ReadOnlyUnitOfWork):
        await in_a_read()
    assert await _places(db, clock) == before
