"""Intake: newly eligible people (CSV rows or JSON) become persons and journeys.

Matching, in order: an external id (CAF number, France Travail id, département id), then
e-mail, then phone, each contact only together with the same identity: last and first names
compared as the identity check compares them, and the birth date when both sides know it. A
phone number or an e-mail alone never merges two people: a couple or a parent and child who
share one become distinct people. A match updates the person's contacts (never their names)
instead of creating a duplicate. A row is rejected, with the cell at fault, when its external
ids contradict its match, when an external id points at someone of another name or birth date
(a CAF number is a household's), or when its contact and names fit several people. A person
already on an open journey of the cohort gets no second one, so importing the same file twice
changes nothing. Rows go in by batches, each in one transaction: a row is written whole or not
at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.clock import Clock
from rdv_spie.db import calendar_version
from rdv_spie.db.base import Base
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.people import service, workbook
from rdv_spie.people.matching import (
    EXTERNAL_IDS,
    UPDATABLE,
    Index,
    NewPerson,
    Outcome,
    classify,
)
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.people.rows import PersonRow, RowError
from rdv_spie.people.table import CsvSource, read_rows
from rdv_spie.territories.models import HolidayZone, Territory

BATCH = 2000
MAX_REPORTED_ERRORS = 1000
REGION = {
    HolidayZone.METROPOLE: "FR",
    HolidayZone.ALSACE_MOSELLE: "FR",
    HolidayZone.GUADELOUPE: "GP",
    HolidayZone.MARTINIQUE: "MQ",
    HolidayZone.GUYANE: "GF",
    HolidayZone.REUNION: "RE",
    HolidayZone.MAYOTTE: "YT",
}


@dataclass(slots=True)
class ImportReport:
    """What an import did; ``rejected`` lists bad rows with their line and column."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    journeys_opened: int = 0
    rejected_rows: int = 0
    rejected: list[RowError] = field(default_factory=list)
    keep: int = MAX_REPORTED_ERRORS  # errors kept in ``rejected`` (all are counted)

    def reject(self, error: RowError) -> None:
        """Count and (up to a limit) keep one error."""
        if len(self.rejected) < self.keep:
            self.rejected.append(error)

    def take(self, outcome: Outcome) -> None:
        """Count what matching decided for a batch."""
        self.created += len(outcome.created)
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.rejected_rows += len(outcome.blocked)
        for error in outcome.blocked:
            self.reject(error)


@dataclass(frozen=True, slots=True)
class Target:
    """The cohort rows go into, with what the rows need to know."""

    cohort_id: uuid.UUID
    territory_id: uuid.UUID
    region: str
    zone: ZoneInfo
    entry_delay_days: int
    invite_within_days: int


async def target(uow: UnitOfWork, cohort_id: uuid.UUID, actor: Actor | None) -> Target:
    """The cohort, checked against the actor: a cohort they do not see is not found; one they
    see takes rows only from the team of its territory (an admin or an animator there)."""
    if actor is None:
        cohort = await uow.session.get(Cohort, cohort_id)
        if cohort is None:
            raise NotFound("cohort not found", field="cohort_id")
    else:
        cohort = await service.get_cohort(uow=uow, actor=actor, cohort_id=cohort_id)
        await require_territory_manager(
            uow,
            actor,
            cohort.territory_id,
            what="cohort",
            detail="only an admin or an animator of the territory can import people",
        )
    territory = await uow.session.get(Territory, cohort.territory_id)
    assert territory is not None
    return Target(
        cohort_id=cohort.id,
        territory_id=territory.id,
        region=REGION.get(HolidayZone(territory.holiday_zone), "FR"),
        zone=ZoneInfo(territory.timezone),
        entry_delay_days=cohort.entry_delay_days,
        invite_within_days=cohort.invite_within_days,
    )


def parse_all(data: CsvSource, *, region: str, today: date) -> list[PersonRow | RowError]:
    """Read and check the whole file before anything is written, so a file that breaks down
    half-way (an unclosed quote…) is refused whole. CPU-bound: callers in the event loop run
    it in a thread. A spreadsheet (.xlsx, .ods, .xls) is read from its first sheet."""
    if isinstance(data, bytes | bytearray) and workbook.is_workbook(bytes(data)):
        return list(workbook.read_workbook(bytes(data), region=region, today=today))
    _, rows = read_rows(data, region=region, today=today)
    return list(rows)


async def import_rows(
    *,
    db: Database,
    clock: Clock,
    into: Target,
    rows: Iterable[PersonRow | RowError],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Write the good rows, batch by batch; report the bad ones."""
    report = ImportReport()
    for batch, errors in batches(rows):
        count(report, batch, errors)
        if batch:
            async with db.unit_of_work(clock=clock) as uow:
                await write_batch(uow, into, batch, report)
        if progress is not None:
            progress(report.rows)
    report.rejected.sort(key=lambda e: (e.line, e.column or 0))
    return report


def count(report: ImportReport, batch: list[PersonRow], errors: list[RowError]) -> int:
    """Count a batch's rows and its rows rejected by the checker; returns the rows."""
    bad = len({e.line for e in errors})
    report.rows += len(batch) + bad
    report.rejected_rows += bad
    for error in errors:
        report.reject(error)
    return len(batch) + bad


async def write_batch(
    uow: UnitOfWork, into: Target, batch: list[PersonRow], report: ImportReport
) -> None:
    """Write one batch in the caller's transaction (one batch of a territory at a time)."""
    await uow.lock(f"intake:{into.territory_id}")
    await _custom_plans(uow)
    await _write_batch(uow, into, batch, report)


async def _custom_plans(uow: UnitOfWork) -> None:
    if uow.is_postgres:
        # The lookups are prepared statements on a table that grows by thousands of rows a
        # batch: a cached generic plan scans it whole (1 s a lookup).
        await uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def count_rows(
    uow: UnitOfWork,
    into: Target,
    rows: Iterable[PersonRow | RowError],
    *,
    keep: int = MAX_REPORTED_ERRORS,
    pause: Callable[[], Awaitable[None]] | None = None,
) -> ImportReport:
    """What ``import_rows`` would do, writing nothing: the same matching against the people
    of the territory (read-only queries), and against the rows before, as the import sees
    them. ``pause`` is awaited between batches (to let other tasks run)."""
    await _custom_plans(uow)
    report = ImportReport(keep=keep)
    index = Index(())
    copies: set[uuid.UUID] = set()
    for batch, errors in batches(rows):
        count(report, batch, errors)
        for person in await _known(uow, into, batch):
            if person.id not in copies:  # an earlier batch's copy holds its changes
                copies.add(person.id)
                index.add(person)
        report.take(classify(index, batch))
        if pause is not None:
            await pause()
    report.rejected.sort(key=lambda e: (e.line, e.column or 0))
    return report


def batches(
    rows: Iterable[PersonRow | RowError],
) -> Iterator[tuple[list[PersonRow], list[RowError]]]:
    """The rows in batches of ``BATCH`` good rows, each with the errors met on the way."""
    batch: list[PersonRow] = []
    errors: list[RowError] = []
    bad_lines: set[int] = set()
    for row in rows:
        if isinstance(row, RowError):
            errors.append(row)
            bad_lines.add(row.line)
        elif row.line not in bad_lines:
            batch.append(row)
        if len(batch) >= BATCH:
            yield batch, errors
            batch, errors, bad_lines = [], [], set()
    if batch or errors:
        yield batch, errors


async def _known(uow: UnitOfWork, into: Target, batch: list[PersonRow]) -> list[NewPerson]:
    """The people of the territory a row of the batch may match, as plain records: loading
    them as ORM objects was most of the time of a re-import (8 of 11 s for 100,000 rows)."""
    # One lookup per way of matching, each served by its own (territory, column) index (an OR
    # of them makes PostgreSQL scan the whole table, which grows with every batch). A person
    # found several ways comes back once per way: kept once, built once.
    territory = Person.territory_id == into.territory_id
    lookups = [
        _lookup(_PLAIN, getattr(Person, name), values, uow.is_postgres, territory)
        for name in (*EXTERNAL_IDS, "email", "phone")
        if (values := sorted({v for r in batch if (v := getattr(r, name))}))
    ]
    if not lookups:
        return []
    seen: set[uuid.UUID] = set()
    known = []
    connection = await uow.session.connection()  # Core: plain rows, no ORM loading
    for row in await connection.execute(union_all(*lookups)):
        if row[0] not in seen:
            seen.add(row[0])
            known.append(NewPerson(*row))
    return known


# The columns of a NewPerson, in its order.
_PLAIN = [getattr(Person, f.name) for f in fields(NewPerson)]


# What matching may change of a person, as a tuple.
_values: Callable[[NewPerson], tuple[Any, ...]] = attrgetter(*UPDATABLE)


async def _update_known(
    uow: UnitOfWork, into: Target, known: list[NewPerson], before: dict[uuid.UUID, tuple[Any, ...]]
) -> None:
    """Write the contacts matching changed, in one executemany by primary key; the people
    left as they were are not written at all."""
    now = uow.clock.now()
    changed = [
        {"id": p.id, "updated_at": now, **{name: getattr(p, name) for name in UPDATABLE}}
        for p in known
        if _values(p) != before[p.id]
    ]
    if changed:
        await uow.session.execute(
            update(Person),
            changed,
            execution_options={calendar_version.OPTION: [into.territory_id]},
        )


async def _write_batch(
    uow: UnitOfWork, into: Target, batch: list[PersonRow], report: ImportReport
) -> None:
    known = await _known(uow, into, batch)
    before = {p.id: _values(p) for p in known}
    outcome = classify(Index(known), batch)
    report.take(outcome)
    matched, created = outcome.matched, outcome.created
    await _update_known(uow, into, known, before)
    now = uow.clock.now()
    if created:
        await _insert_many(
            uow,
            Person,
            [
                {
                    "id": p.id,
                    "created_at": now,
                    "updated_at": now,
                    "territory_id": into.territory_id,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    **{name: getattr(p, name) for name in UPDATABLE},
                }
                for p in created
            ],
        )

    known_ids = sorted({p.id for _, p in matched if p.id in before})
    # A person on an open journey of the cohort gets no second one; nor does one whose closed
    # journey entered the same day (the same file again after a closing changes nothing).
    open_journeys: set[uuid.UUID] = set()
    entries: set[tuple[uuid.UUID, date]] = set()
    if known_ids:
        columns = [Journey.person_id, Journey.entered_on, Journey.closed_at]
        in_cohort = Journey.cohort_id == into.cohort_id
        connection = await uow.session.connection()
        for person_id, entered_on, closed_at in await connection.execute(
            _lookup(columns, Journey.person_id, known_ids, uow.is_postgres, in_cohort)
        ):
            entries.add((person_id, entered_on))
            if closed_at is None:
                open_journeys.add(person_id)
    today = now.astimezone(into.zone).date()
    journeys = []
    for row, someone in matched:
        entered = row.entered_on or today
        if someone.id in open_journeys or (someone.id, entered) in entries:
            continue
        journeys.append(
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "territory_id": into.territory_id,
                "person_id": someone.id,
                "cohort_id": into.cohort_id,
                "entered_on": entered,
                "invite_by_on": entered + timedelta(days=into.invite_within_days),
                "appointment_by_on": entered + timedelta(days=into.entry_delay_days),
            }
        )
        open_journeys.add(someone.id)
    if journeys:
        await _insert_many(uow, Journey, journeys)
    report.journeys_opened += len(journeys)


async def _insert_many(
    uow: UnitOfWork, table: type[Person | Journey], rows: list[dict[str, Any]]
) -> None:
    """One Core executemany per table and batch: no ORM objects to flush, no RETURNING."""
    if rows:
        connection = await uow.session.connection()
        await connection.execute(insert(Base.metadata.tables[table.__tablename__]), rows)


def _lookup(
    columns: list[Any], key: Any, values: list[Any], postgres: bool, *where: Any
) -> Select[Any]:
    """``columns`` of the rows whose ``key`` is among ``values`` and whose other columns are
    ``where``'s. On PostgreSQL one array parameter (not thousands of bound values to render
    and send) probed value by value through the (``where``, ``key``) index: the planner's
    estimates lag behind a table that has just grown by thousands of rows (a new territory's
    first file), and with ``key = ANY(...)`` it then read every row of the territory for each
    lookup of each batch (3/4 of a re-import's database time). The ``OFFSET 0`` keeps the
    lateral subquery from being flattened into a join it may plan the same way."""
    if not postgres:
        return select(*columns).where(*where, key.in_(values))
    keys = func.unnest(bindparam(None, values, type_=ARRAY(key.type)))
    probe = keys.table_valued("value").render_derived(name="k")
    found = (
        select(*columns)
        .where(*where, key == probe.c.value)
        .offset(literal_column("0"))
        .lateral("found")
    )
    return select(*found.c).select_from(probe).join(found, true())
