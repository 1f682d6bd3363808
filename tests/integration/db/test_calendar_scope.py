"""Calendar counters per territory (db/calendar_version.py), on both engines: a write in one
territory moves that territory's counter only, so another territory's cached slots and feeds
stay in use; an agent working in two territories moves both; a change to the shape of the
calendars moves every key. Two Database objects on one database stand for two processes:
what one writes, the other's next search sees, while its cache for the other territory holds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Uuid, literal, select
from tests.support import scenario as sc

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.calendars.models import FeedKind
from rdv_spie.calendars.service import find_active, issue_feed
from rdv_spie.clock import FrozenClock
from rdv_spie.db.calendar_version import shape_version, territory_version
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import Invalid
from rdv_spie.scheduling import booking, search
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.models import Absence, AvailabilityRule
from rdv_spie.settings import Settings

WEEK = timedelta(days=7)
MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


async def week_in(
    uow: UnitOfWork, clock: FrozenClock, territory: sc.Scenario, cache: SlotCache
) -> list[datetime]:
    """The starts of the territory's single-type slots in the week of MONDAY."""
    _, found = await search.find_slots(
        uow=uow,
        now=clock.now(),
        type_id=territory.single_type_id,
        window_start=MONDAY,
        window_end=MONDAY + WEEK,
        cache=cache,
    )
    return [slot.starts_at for slot in found]


async def week(
    db: Database, clock: FrozenClock, territory: sc.Scenario, cache: SlotCache
) -> list[datetime]:
    """``week_in`` a read unit of work of ``db``."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return await week_in(uow, clock, territory, cache)


async def book_in(
    db: Database,
    clock: FrozenClock,
    territory: sc.Scenario,
    starts_at: datetime,
    cache: SlotCache | None = None,
) -> None:
    """Book the single type at the territory's first place, as the person would."""
    async with db.unit_of_work(clock=clock) as uow:
        await booking.book_appointment(
            uow=uow,
            actor=None,
            appointment_type_id=territory.single_type_id,
            place_id=territory.place_ids[0],
            starts_at=starts_at,
            cache=cache,
        )


async def end_hours(db: Database, clock: FrozenClock, agent_id: uuid.UUID) -> None:
    """The agent's opening hours end today."""
    async with db.unit_of_work(clock=clock) as uow:
        for rule in await uow.session.scalars(
            select(AvailabilityRule).where(AvailabilityRule.agent_id == agent_id)
        ):
            rule.valid_until = clock.now().date()


async def keys(db: Database, clock: FrozenClock, *territories: uuid.UUID) -> list[tuple[int, int]]:
    """(shared counter, territory's counter) for each territory."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = []
        for territory_id in territories:
            row = (
                await uow.session.execute(
                    select(shape_version(), territory_version(literal(territory_id, Uuid)))
                )
            ).one()
            found.append((int(row[0]), int(row[1])))
    return found


async def absence(db: Database, clock: FrozenClock, agent_id: uuid.UUID) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        start = clock.now() + timedelta(days=3)
        uow.session.add(Absence(agent_id=agent_id, starts_at=start, ends_at=start + WEEK))


async def test_a_write_moves_its_territory_only(db: Database, clock: FrozenClock) -> None:
    a = await sc.build(db, clock, slug="aisne")
    b = await sc.build(db, clock, slug="oise")
    before_a, before_b = await keys(db, clock, a.territory_id, b.territory_id)
    await absence(db, clock, a.referent_ids[0])
    after_a, after_b = await keys(db, clock, a.territory_id, b.territory_id)
    assert after_a == (before_a[0], before_a[1] + 1)
    assert after_b == before_b


async def test_an_agent_of_two_territories_moves_both(db: Database, clock: FrozenClock) -> None:
    a = await sc.build(db, clock, slug="aisne")
    b = await sc.build(db, clock, slug="oise")
    c = await sc.build(db, clock, slug="somme")
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            Membership(
                agent_id=a.referent_ids[0], organisation_id=b.organisation_id, role=Role.REFERENT
            )
        )
    before = await keys(db, clock, a.territory_id, b.territory_id, c.territory_id)
    await absence(db, clock, a.referent_ids[0])
    after = await keys(db, clock, a.territory_id, b.territory_id, c.territory_id)
    assert [k[1] - was[1] for k, was in zip(after, before, strict=True)] == [1, 1, 0]


async def test_a_change_of_shape_moves_every_key(db: Database, clock: FrozenClock) -> None:
    a = await sc.build(db, clock, slug="aisne")
    b = await sc.build(db, clock, slug="oise")
    before = await keys(db, clock, a.territory_id, b.territory_id)
    async with db.unit_of_work(clock=clock) as uow:
        agent = await uow.session.get(Agent, b.referent_ids[0])
        assert agent is not None
        agent.first_name = "Renommée"
    after = await keys(db, clock, a.territory_id, b.territory_id)
    assert all(k[0] == was[0] + 1 for k, was in zip(after, before, strict=True))


async def test_feed_keys_follow_their_subjects_territories(
    db: Database, clock: FrozenClock
) -> None:
    a = await sc.build(db, clock, slug="aisne")
    b = await sc.build(db, clock, slug="oise")
    tokens = {}
    async with db.unit_of_work(clock=clock) as uow:
        for name, kind, subject in (
            ("agent_a", FeedKind.AGENT, a.referent_ids[0]),
            ("territory_a", FeedKind.TERRITORY, a.territory_id),
            ("agent_b", FeedKind.AGENT, b.referent_ids[0]),
            ("territory_b", FeedKind.TERRITORY, b.territory_id),
        ):
            issued = await issue_feed(
                uow=uow, kind=kind, subject_id=subject, created_by=a.admin_id, valid_days=30
            )
            tokens[name] = issued.token

    async def versions() -> dict[str, tuple[int, int]]:
        found = {}
        async with db.engine.connect() as conn:
            for name, token in tokens.items():
                feed = await find_active(conn, token=token, now=clock.now())
                assert feed is not None
                found[name] = feed.calendar_version
        return found

    before = await versions()
    await absence(db, clock, a.referent_ids[0])
    after = await versions()
    moved = {name for name in tokens if after[name] != before[name]}
    assert moved == {"agent_a", "territory_a"}


async def test_two_processes_see_each_others_writes_and_keep_other_caches(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    """Process 1 books in territory A; process 2's next search of A sees it (a miss), while
    its cached search of territory B is still used (a hit)."""
    a = await sc.build(db, clock, slug="aisne", referents=1)
    b = await sc.build(db, clock, slug="oise", referents=1)
    other = Database(create_engine(settings))
    cache = SlotCache()

    try:
        slots_a = await week(other, clock, a, cache)
        slots_b = await week(other, clock, b, cache)
        assert slots_a and slots_b and cache.misses == 2
        await book_in(db, clock, a, slots_a[0])
        assert await week(other, clock, b, cache) == slots_b
        assert (cache.hits, cache.misses) == (1, 2)
        assert slots_a[0] not in await week(other, clock, a, cache)
        assert (cache.hits, cache.misses) == (1, 3)
    finally:
        await other.dispose()


async def test_a_booking_keeps_the_opening_hours_a_rule_change_drops_them(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    """Process 2's search right after process 1's booking computes its slots again from the
    opening hours it kept (the booked slot is gone); after process 1 ends the referent's
    hours, process 2 reads them again and offers nothing."""
    a = await sc.build(db, clock, slug="aisne", referents=1)
    other = Database(create_engine(settings))
    cache = SlotCache()

    try:
        first = await week(other, clock, a, cache)
        assert first and (cache.rules.hits, cache.rules.misses) == (0, 1)
        await book_in(db, clock, a, first[0])
        after_booking = await week(other, clock, a, cache)
        assert first[0] not in after_booking and set(after_booking) < set(first)
        assert cache.misses == 2 and (cache.rules.hits, cache.rules.misses) == (1, 1)
        await end_hours(db, clock, a.referent_ids[0])
        assert await week(other, clock, a, cache) == []
        assert (cache.rules.hits, cache.rules.misses) == (1, 2)
    finally:
        await other.dispose()


async def test_bookings_keep_the_opening_hours_until_another_process_changes_them(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    """Process 2 books twice on one day: the second booking finds the hours the first kept.
    Process 1 then ends the referent's hours; process 2's next booking reads them again and
    is refused, as a search there would be."""
    a = await sc.build(db, clock, slug="aisne", referents=1)
    other = Database(create_engine(settings))
    cache = SlotCache()
    async with other.unit_of_work(clock=clock, write=False) as uow:
        _, found = await search.find_slots(
            uow=uow,
            now=clock.now(),
            type_id=a.single_type_id,
            window_start=MONDAY,
            window_end=MONDAY + timedelta(days=1),
        )
    first, second, third = found[0].starts_at, found[-1].starts_at, found[-2].starts_at

    try:
        await book_in(other, clock, a, first, cache)
        await book_in(other, clock, a, second, cache)
        assert (cache.rules.hits, cache.rules.misses) == (1, 1)
        await end_hours(db, clock, a.referent_ids[0])
        with pytest.raises(Invalid) as refused:
            await book_in(other, clock, a, third, cache)
        assert refused.value.code == "outside_availability"
        assert (cache.rules.hits, cache.rules.misses) == (1, 2)
    finally:
        await other.dispose()


async def test_a_transaction_that_changed_hours_neither_reads_nor_fills_the_caches(
    db: Database, clock: FrozenClock
) -> None:
    """Its own change is not in the counters until it commits: its search sees the change
    without touching the caches, and once it is rolled back the cached slots still hold."""
    a = await sc.build(db, clock, slug="aisne", referents=1)
    cache = SlotCache()

    async with db.unit_of_work(clock=clock, write=False) as uow:
        first = await week_in(uow, clock, a, cache)
    assert first

    async def close_then_fail() -> None:
        async with db.unit_of_work(clock=clock) as uow:
            for rule in await uow.session.scalars(select(AvailabilityRule)):
                rule.valid_until = clock.now().date()
            await uow.session.flush()
            assert await week_in(uow, clock, a, cache) == []
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await close_then_fail()
    assert (cache.hits, cache.misses, cache.rules.hits, cache.rules.misses) == (0, 1, 0, 1)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await week_in(uow, clock, a, cache) == first
    assert (cache.hits, cache.misses) == (1, 1)
