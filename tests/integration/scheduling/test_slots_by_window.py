"""Paging a slot search through the search window (``search.slots_by_window``): the public
slot pages and the invitation sender both walk a range longer than one window through it."""

from __future__ import annotations

import itertools
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
