"""Paging a slot search through the search window (``search.slots_by_window``): the public
slot pages and the invitation sender both walk a range longer than one window through it."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling import search
from rdv_spie.scheduling.models import AppointmentType


async def test_a_range_longer_than_a_window_is_walked_window_by_window(
    db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, referents=1)
    now = clock.now()
    end = now + timedelta(days=150)
    async with db.unit_of_work(clock=clock) as uow:
        type_ = await uow.session.get(AppointmentType, s.single_type_id)
        assert type_ is not None
        type_.horizon_days = 200
        await uow.session.flush()
        chunks = [
            chunk
            async for chunk in search.slots_by_window(
                uow=uow, now=now, type_id=type_.id, start=now, end=end, grid_minutes=15
            )
        ]
        # The same range cut into 30-day windows finds the same slots.
        again = []
        for day in range(0, 150, 30):
            _, found = await search.find_slots(
                uow=uow,
                now=now,
                type_id=type_.id,
                window_start=now + timedelta(days=day),
                window_end=min(end, now + timedelta(days=day + 30)),
                grid_minutes=15,
            )
            again.extend(found)

    assert len(chunks) == 3  # 62 + 62 + 26 days
    slots = [slot for chunk in chunks for slot in chunk]
    assert slots == again
    assert all(chunk for chunk in chunks)
    assert slots[-1].starts_at > now + search.MAX_WINDOW * 2
    assert all(a.starts_at <= b.starts_at for a, b in itertools.pairwise(slots))


async def test_an_inactive_type_yields_nothing(db: Database, clock: FrozenClock) -> None:
    s = await sc.build(db, clock, referents=1)
    now = clock.now()
    async with db.unit_of_work(clock=clock) as uow:
        type_ = await uow.session.get(AppointmentType, s.single_type_id)
        assert type_ is not None
        type_.active = False
        await uow.session.flush()
        chunks = [
            chunk
            async for chunk in search.slots_by_window(
                uow=uow,
                now=now,
                type_id=type_.id,
                start=now,
                end=now + timedelta(days=100),
                grid_minutes=15,
            )
        ]
    assert chunks == []


async def test_place_and_structure_filters_give_the_slots_of_those_only(
    db: Database, clock: FrozenClock
) -> None:
    """One place is bound as one id, several as a set; the structures whose hours may be given
    are filtered on the rows read (queries.rules): each way finds exactly its slots."""
    s = await sc.build(db, clock, referents=2, places=3)
    now = clock.now()
    elsewhere = uuid.uuid4()  # a structure with no hours here

    async def slots(
        places: frozenset[uuid.UUID] | None = None,
        structures: frozenset[uuid.UUID] | None = None,
    ) -> list[tuple[uuid.UUID, object]]:
        async with db.unit_of_work(clock=clock, write=False) as uow:
            _, found = await search.find_slots(
                uow=uow,
                now=now,
                type_id=s.single_type_id,
                window_start=now,
                window_end=now + timedelta(days=14),
                grid_minutes=15,
                place_ids=places,
                organisation_ids=structures,
            )
        return [(slot.place_id, slot.starts_at) for slot in found]

    every = await slots()
    first, second, third = s.place_ids
    assert {place for place, _ in every} == {first, second, third}
    one = await slots(frozenset({first}))
    two = await slots(frozenset({first, second}))
    assert one and set(one) == {x for x in every if x[0] == first}
    assert set(two) == {x for x in every if x[0] in (first, second)}
    assert await slots(frozenset()) == []
    # The scenario's referents open their hours for its one structure.
    assert await slots(structures=frozenset({s.organisation_id})) == every
    assert await slots(structures=frozenset({s.organisation_id, elsewhere})) == every
    assert await slots(structures=frozenset({elsewhere})) == []
    assert await slots(frozenset({first}), frozenset({elsewhere})) == []
    assert await slots(frozenset({first}), frozenset({s.organisation_id})) == one
