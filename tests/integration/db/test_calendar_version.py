"""The calendar counter (db/calendar_version.py) on both engines: a write to any table of
CALENDAR_TABLES moves it, through a flush or a statement, once per transaction and only when
the transaction commits; a write elsewhere leaves it; and the list names exactly the tables a
slot search and the three kinds of feed read, so a cached result can never outlive a write."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Uuid, event, insert, literal, select, update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import TableClause
from tests.support import scenario as sc

from rdv_spie.calendars import content
from rdv_spie.calendars.models import FeedKind
from rdv_spie.calendars.service import ActiveFeed
from rdv_spie.clock import FrozenClock
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSeries, CtoSession
from rdv_spie.db.calendar_version import (
    CALENDAR_TABLES,
    RULE_TABLES,
    SHAPE_TABLES,
    rules_version,
    shape_version,
    territory_version,
)
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.models import Base
from rdv_spie.people.models import Cohort, Person
from rdv_spie.scheduling import queries, search
from rdv_spie.scheduling.models import (
    Absence,
    Appointment,
    AppointmentAgent,
    AppointmentDeparture,
    AppointmentType,
    AttendeeRole,
    AvailabilityRule,
    appointment_type_place,
)
from rdv_spie.territories.models import Place, Territory

# Tables the searches and feeds read that are not in the list, and why.
NOT_LISTED = {
    "calendar_version": "the shared counter, read with the cached results",
    "calendar_change": "the territories' counters, read with the cached results",
}

WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    """The scenario, plus a person with an appointment, an absence and a CTO series with a
    session, a member and a request: a row in every listed table."""
    s = await sc.build(db, clock)
    agent_id = s.referent_ids[0]
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(territory_id=s.territory_id, first_name="Ada", last_name="Lovelace")
        series = CtoSeries(
            territory_id=s.territory_id,
            organisation_id=s.organisation_id,
            name="Laon",
            starts_on=date(2026, 12, 10),
            place_id=s.place_ids[0],
        )
        uow.session.add_all([person, series])
        await uow.session.flush()
        starts = datetime(2026, 12, 10, 7, 30, tzinfo=UTC)
        session = CtoSession(
            series_id=series.id,
            territory_id=s.territory_id,
            occurs_on=date(2026, 12, 10),
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            deadline_at=starts - timedelta(days=3),
            freeze_at=starts - timedelta(days=3),
            dispatch_at=starts - timedelta(days=2),
        )
        appointment = Appointment(
            territory_id=s.territory_id,
            acting_organisation_id=s.organisation_id,
            appointment_type_id=s.single_type_id,
            place_id=s.place_ids[0],
            person_id=person.id,
            starts_at=WED_0900,
            ends_at=WED_0900 + timedelta(minutes=45),
            busy_until=WED_0900 + timedelta(minutes=45),
            attendees=[
                AppointmentAgent(
                    agent_id=agent_id,
                    role=AttendeeRole.REFERENT,
                    starts_at=WED_0900,
                    busy_until=WED_0900 + timedelta(minutes=45),
                )
            ],
        )
        absence = Absence(
            agent_id=agent_id, starts_at=WED_0900, ends_at=WED_0900 + timedelta(hours=2)
        )
        member = CtoMember(series_id=series.id, agent_id=s.animator_id)
        uow.session.add_all([session, appointment, absence, member])
        await uow.session.flush()
        uow.session.add(  # the appointment was moved off another agent's calendar
            AppointmentDeparture(
                appointment_id=appointment.id,
                agent_id=s.admin_id,
                starts_at=WED_0900 - timedelta(hours=1),
                ends_at=WED_0900 - timedelta(minutes=15),
                departed_at=clock.now(),
            )
        )
        uow.session.add(
            CtoRequest(
                session_id=session.id,
                territory_id=s.territory_id,
                referent_id=agent_id,
                organisation_id=s.organisation_id,
                person_id=person.id,
                thematics=["logement"],
                summary="Cherche un logement.",
                consent=True,
                submitted_at=clock.now(),
            )
        )
    return s


async def counter(db: Database, clock: FrozenClock, *, rules: bool = False) -> int:
    """The scenario territory's counter plus the shared one: a cached search of it changes
    key when, and only when, this moves (``rules``: its rules counter, the key of the opening
    hours a search keeps)."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        territory_id = await uow.session.scalar(select(Territory.id))
        territory = literal(territory_id, Uuid)
        own = rules_version(territory) if rules else territory_version(territory)
        row = (await uow.session.execute(select(shape_version(), own))).one()
    return int(row[0]) + int(row[1])


def mapped_class(table_name: str) -> Any:
    """The class mapped to ``table_name``, or None (an association table)."""
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return mapper.class_
    return None


# The association tables, written through their owner's collection.
COLLECTIONS: dict[str, tuple[Any, str, Any]] = {
    "appointment_type_place": (AppointmentType, "allowed_places", Place),
    "availability_rule_type": (AvailabilityRule, "appointment_types", AppointmentType),
}


async def change_a_row(uow: UnitOfWork, table_name: str) -> None:
    """Change one existing row of ``table_name`` through the ORM (or, for an association
    table, add or remove one), flushed at the latest at commit."""
    if table_name in COLLECTIONS:
        owner_class, attribute, item_class = COLLECTIONS[table_name]
        owner = await uow.session.scalar(select(owner_class).limit(1))
        item = await uow.session.scalar(select(item_class).limit(1))
        collection = getattr(owner, attribute)
        if item in collection:
            collection.remove(item)
        else:
            collection.append(item)
        return
    cls = mapped_class(table_name)
    assert cls is not None, f"say how to write {table_name} (COLLECTIONS)"
    row = await uow.session.scalar(select(cls).limit(1))
    assert row is not None, f"the fixture holds no {table_name} row"
    if isinstance(row, AppointmentAgent):
        row.busy_until += timedelta(minutes=5)
    elif isinstance(row, AppointmentDeparture):
        row.departed_at += timedelta(minutes=5)
    else:  # stamped again from the clock, which the caller moves on
        row.updated_at = datetime(2000, 1, 1, tzinfo=UTC)


def test_every_listed_table_exists() -> None:
    assert set(Base.metadata.tables) >= CALENDAR_TABLES


@pytest.mark.parametrize("table_name", sorted(CALENDAR_TABLES))
async def test_a_write_to_each_listed_table_moves_the_counter_once(
    db: Database, clock: FrozenClock, s: sc.Scenario, table_name: str
) -> None:
    before = await counter(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        clock.advance(timedelta(seconds=1))
        await change_a_row(uow, table_name)
        await uow.session.flush()
        clock.advance(timedelta(seconds=1))
        await change_a_row(uow, table_name)  # two writes, one transaction: one bump
    assert await counter(db, clock) == before + 1


async def test_a_row_added_or_deleted_moves_the_counter(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    before = await counter(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        absence = Absence(
            agent_id=s.referent_ids[1], starts_at=WED_0900, ends_at=WED_0900 + timedelta(hours=1)
        )
        uow.session.add(absence)
    assert await counter(db, clock) == before + 1
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.delete(await uow.session.get(Absence, absence.id))
    assert await counter(db, clock) == before + 2


async def test_statements_on_listed_tables_move_the_counter(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    """The purge of people erases names with an UPDATE statement, not a flush."""
    before = await counter(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Person).values(first_name="").execution_options(synchronize_session=False)
        )
    assert await counter(db, clock) == before + 1
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            insert(appointment_type_place).values(
                appointment_type_id=s.tripartite_type_id, place_id=s.place_ids[0]
            )
        )
    assert await counter(db, clock) == before + 2


async def test_writes_elsewhere_reads_and_rollbacks_leave_the_counter(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    before = await counter(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        member = await uow.session.scalar(select(CtoMember))
        assert member is not None
        member.charter_accepted_on = date(2026, 11, 20)
        uow.session.add(
            Cohort(territory_id=s.territory_id, name="Cohorte", organisation_id=s.organisation_id)
        )
    async with db.unit_of_work(clock=clock, write=False) as uow:
        await uow.session.scalar(select(Person))

    async def rename_then_fail() -> None:
        async with db.unit_of_work(clock=clock) as uow:
            person = await uow.session.scalar(select(Person))
            assert person is not None
            person.first_name = "Grace"
            await uow.session.flush()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await rename_then_fail()
    assert await counter(db, clock) == before


async def tables_read(db: Database, clock: FrozenClock, s: sc.Scenario) -> set[str]:
    """The tables a slot search and the agent, territory and CTO series feeds select from."""
    read: set[str] = set()

    def collect(state: ORMExecuteState) -> None:
        read.update(
            node.name for node in visitors.iterate(state.statement) if isinstance(node, TableClause)
        )

    async with db.unit_of_work(clock=clock, write=False) as uow:
        series_id = await uow.session.scalar(select(CtoSeries.id))
        assert series_id is not None
        event.listen(uow.session.sync_session, "do_orm_execute", collect)
        _, found = await search.find_slots(
            uow=uow,
            now=clock.now(),
            type_id=s.tripartite_type_id,
            window_start=WED_0900,
            window_end=WED_0900 + timedelta(days=7),
        )
        assert found
        w = content.window(clock.now(), past_days=30, future_days=60)
        for kind, subject_id in (
            (FeedKind.AGENT, s.referent_ids[0]),
            (FeedKind.TERRITORY, s.territory_id),
            (FeedKind.CTO_SERIES, series_id),
        ):
            feed = ActiveFeed(uuid.uuid4(), kind, subject_id, calendar_version=(0, 0))
            assert await content.subject(uow, feed) is not None
            assert await content.events(uow, feed, w, public_url="https://rdv.test")
    return read


async def test_the_list_is_what_slot_searches_and_feeds_read(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    """A table the cached searches or feeds read but the list misses would let a cached
    result outlive a write; a listed table they do not read bumps for nothing."""
    print("read but not listed, on purpose:", NOT_LISTED)
    read = await tables_read(db, clock, s)
    assert read - CALENDAR_TABLES == set(NOT_LISTED), "read but not listed"
    assert CALENDAR_TABLES - read == set(), "listed but not read"


@pytest.mark.parametrize("table_name", sorted(CALENDAR_TABLES))
async def test_only_writes_to_opening_hours_move_the_rules_counter(
    db: Database, clock: FrozenClock, s: sc.Scenario, table_name: str
) -> None:
    """A booking, an absence or a person leaves the opening hours a search keeps; a rule, a
    place, a type or the shape of the calendars drops them."""
    before = await counter(db, clock, rules=True)
    async with db.unit_of_work(clock=clock) as uow:
        clock.advance(timedelta(seconds=1))
        await change_a_row(uow, table_name)
    moved = table_name in RULE_TABLES | SHAPE_TABLES
    assert await counter(db, clock, rules=True) == before + int(moved)


async def test_a_rule_statement_moves_the_rules_counter(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    before = await counter(db, clock, rules=True)
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            insert(appointment_type_place)
            .values(appointment_type_id=s.tripartite_type_id, place_id=s.place_ids[0])
            .execution_options(calendar_territories=[s.territory_id])
        )
    assert await counter(db, clock, rules=True) == before + 1


@pytest.mark.parametrize("places", [0, 1, 2])
def test_the_rule_tables_are_what_the_rule_query_reads(places: int) -> None:
    """A table the rule query reads but neither list holds would let kept opening hours
    outlive a write. The type is listed beside them: its places change through it."""
    statement = queries.rules(postgres=True, places=places)
    read = {n.name for n in visitors.iterate(statement) if isinstance(n, TableClause)}
    assert read - SHAPE_TABLES == RULE_TABLES - {"appointment_type"}


async def test_a_savepoint_rolled_back_keeps_what_the_transaction_wrote_before(
    db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    """A refused booking is undone in a savepoint (web/refused.py); an absence written
    before it in the same transaction still commits, so the counter must still move."""
    before = await counter(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            Absence(
                agent_id=s.referent_ids[1],
                starts_at=WED_0900,
                ends_at=WED_0900 + timedelta(hours=1),
            )
        )
        await uow.session.flush()

        async def rename_then_refuse() -> None:
            async with uow.session.begin_nested():
                person = await uow.session.scalar(select(Person))
                assert person is not None
                person.first_name = "Grace"
                await uow.session.flush()
                raise RuntimeError("refused")

        with pytest.raises(RuntimeError):
            await rename_then_refuse()
    assert await counter(db, clock) == before + 1
