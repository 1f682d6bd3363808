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

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import any_, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.clock import Clock
from rdv_spie.db.base import Base
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.people import service, workbook
from rdv_spie.people.contact import letters
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.people.rows import PersonRow, RowError
from rdv_spie.people.table import CsvSource, read_rows
from rdv_spie.territories.models import HolidayZone, Territory

BATCH = 2000
MAX_REPORTED_ERRORS = 1000
EXTERNAL_IDS = ("caf_number", "france_travail_id", "departement_id")
_UPDATABLE = (
    "birth_on",
    "phone",
    "email",
    "postcode",
    *EXTERNAL_IDS,
    "sms_consent",
    "email_consent",
    "prefers_call",
)
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

    def reject(self, error: RowError) -> None:
        """Count and (up to a limit) keep one error."""
        if len(self.rejected) < MAX_REPORTED_ERRORS:
            self.rejected.append(error)


@dataclass(slots=True, eq=False)  # identity: matching puts people in sets
class _NewPerson:
    """A person first seen in this batch: a plain record (an ORM instance costs more to build
    than to insert), inserted in bulk at the end of the batch."""

    id: uuid.UUID
    first_name: str
    last_name: str
    birth_on: date | None
    phone: str | None
    email: str | None
    postcode: str | None
    caf_number: str | None
    france_travail_id: str | None
    departement_id: str | None
    sms_consent: bool
    email_consent: bool
    prefers_call: bool


_Someone = Person | _NewPerson


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
    for batch, errors in _batches(rows):
        report.rows += len(batch) + len({e.line for e in errors})
        report.rejected_rows += len({e.line for e in errors})
        for error in errors:
            report.reject(error)
        if batch:
            async with db.unit_of_work(clock=clock) as uow:
                await uow.lock(f"intake:{into.territory_id}")
                if uow.is_postgres:
                    # The lookups are prepared statements on a table that grows by thousands
                    # of rows a batch: a cached generic plan scans it whole (1 s a lookup).
                    await uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                await _write_batch(uow, into, batch, report)
        if progress is not None:
            progress(report.rows)
    report.rejected.sort(key=lambda e: (e.line, e.column or 0))
    return report


def _batches(
    rows: Iterable[PersonRow | RowError],
) -> Iterator[tuple[list[PersonRow], list[RowError]]]:
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


def _name_key(name: str) -> str:
    """A name as the identity check compares it (case, accents, spaces and punctuation
    ignored), keeping its digits ("Nom1" is not "Nom2"); a name of neither letters nor digits
    is kept as written, so it still tells people apart."""
    return letters(name) + "".join(filter(str.isdigit, name)) or name.casefold().strip()


def _same_birth(a: date | None, b: date | None) -> bool:
    """Birth dates only tell people apart when both are known."""
    return a is None or b is None or a == b


def _agrees(a: str, b: str) -> bool:
    """Two names as written are one, or one is the other's first words ("Jean" /
    "Jean-Pierre"), never a longer word ("Louis" / "Louise")."""
    mine, theirs = _words(a), _words(b)
    if not mine or not theirs:
        return False
    if "".join(mine) == "".join(theirs):  # "Jean Pierre" / "Jean-Pierre" / "JeanPierre"
        return True
    short, long = sorted((mine, theirs), key=len)
    return long[: len(short)] == short


def _words(name: str) -> list[str]:
    """A name's words as the identity check compares them (accents, case ignored)."""
    return [w for w in (letters(part) for part in _WORD.findall(name)) if w]


_WORD = re.compile(r"[^\W_]+")


class _Index:
    """Existing people of the batch's territory, by each way a row can match them: an external
    id alone; a phone number or an e-mail address only with the same last and first names."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.by_id: dict[tuple[str, str], _Someone] = {}
        self.by_email: dict[tuple[str, str, str], list[_Someone]] = {}
        self.by_phone: dict[tuple[str, str, str], list[_Someone]] = {}
        self.keys: dict[str, str] = {}  # a batch's names repeat: normalise each once
        for person in people:
            self.add(person)

    def names(self, someone: PersonRow | _Someone) -> tuple[str, str]:
        """The last and first names as compared."""
        keys = self.keys
        last, first = someone.last_name, someone.first_name
        if last not in keys:
            keys[last] = _name_key(last)
        if first not in keys:
            keys[first] = _name_key(first)
        return keys[last], keys[first]

    def add(self, person: _Someone) -> None:
        for name in EXTERNAL_IDS:
            value = getattr(person, name)
            if value:
                self.by_id[(name, value)] = person
        last, first = self.names(person)
        if person.email:
            _file(self.by_email, (person.email.casefold(), last, first), person)
        if person.phone:
            _file(self.by_phone, (person.phone, last, first), person)

    def match(self, row: PersonRow) -> _Someone | RowError | None:
        by_ids = {
            name: self.by_id[(name, getattr(row, name))]
            for name in EXTERNAL_IDS
            if getattr(row, name) and (name, getattr(row, name)) in self.by_id
        }
        if len(set(by_ids.values())) > 1:
            return _blocked(row, "its external ids belong to different people")
        names = self.names(row)
        if by_ids:
            name, found = next(iter(by_ids.items()))
            why = _stranger(row, names, found, self.names(found))
            if why is not None:
                return _blocked(row, f"{name} {why}", name, code="ambiguous_identity")
        else:
            last, first = names
            contacts = (
                ("email", self.by_email, row.email.casefold() if row.email else None),
                ("phone", self.by_phone, row.phone),
            )
            for name, index, value in contacts:
                if value is None:
                    continue
                same = [
                    p
                    for p in index.get((value, last, first), ())
                    if _same_birth(p.birth_on, row.birth_on)
                ]
                if len(same) > 1 and row.birth_on is not None:
                    same = [p for p in same if p.birth_on == row.birth_on] or same
                if len(same) > 1:
                    why = (
                        f"{name} and names fit several people; add the birth date or an external id"
                    )
                    return _blocked(row, why, name, code="ambiguous_identity")
                if same:
                    found = same[0]
                    break
            else:
                return None
        for name in EXTERNAL_IDS:
            mine, theirs = getattr(row, name), getattr(found, name)
            if mine and theirs and mine != theirs:
                return _blocked(row, f"{name} differs from the matching person's", name)
        return found


def _file(
    index: dict[tuple[str, str, str], list[_Someone]], key: tuple[str, str, str], person: _Someone
) -> None:
    bucket = index.setdefault(key, [])
    if person not in bucket:
        bucket.append(person)


def _stranger(
    row: PersonRow, names: tuple[str, str], found: _Someone, theirs: tuple[str, str]
) -> str | None:
    """Why the person an external id points at is not the row's, or None when they may be
    the same: the first name kept (a new last name after a marriage), or the last name kept
    with the same birth date (a first name spelt otherwise), or the two names swapped; never
    another birth date. A CAF number is a household's: the spouse or a child shares it."""
    (last, first), (their_last, their_first) = names, theirs
    both_born = row.birth_on is not None and found.birth_on is not None
    if not (
        _agrees(row.first_name, found.first_name)
        or (last == their_first and first == their_last)
        or (last == their_last and both_born and row.birth_on == found.birth_on)
    ):
        return "belongs to a person recorded under another name"
    if both_born and row.birth_on != found.birth_on:
        return "belongs to a person recorded with another birth date"
    return None


def _blocked(
    row: PersonRow, why: str, name: str | None = None, *, code: str = "conflicting_external_id"
) -> RowError:
    column, header = row.where(name) if name else (None, None)
    return RowError(
        line=row.line,
        column=column,
        header=header,
        field=name,
        code=code,
        detail=f"row blocked: {why}; fix the file or the person's record",
    )


async def _write_batch(
    uow: UnitOfWork, into: Target, batch: list[PersonRow], report: ImportReport
) -> None:
    conditions = []
    for name in (*EXTERNAL_IDS, "email", "phone"):
        values = sorted({v for r in batch if (v := getattr(r, name))})
        if values:
            conditions.append(_among(getattr(Person, name), values, uow.is_postgres))
    # One query per way of matching, each served by its own (territory, column) index: an OR
    # of them makes PostgreSQL scan the whole table, which grows with every batch.
    known: dict[uuid.UUID, Person] = {}
    for condition in conditions:
        for person in await uow.session.scalars(
            select(Person).where(Person.territory_id == into.territory_id, condition)
        ):
            known[person.id] = person
    existing = list(known.values())
    index = _Index(existing)
    matched: list[tuple[PersonRow, _Someone]] = []
    created: list[_NewPerson] = []
    for row in batch:
        found = index.match(row)
        if isinstance(found, RowError):
            report.rejected_rows += 1
            report.reject(found)
            continue
        if found is None:
            found = _NewPerson(
                uuid.uuid4(),
                row.first_name,
                row.last_name,
                row.birth_on,
                row.phone,
                row.email,
                row.postcode,
                row.caf_number,
                row.france_travail_id,
                row.departement_id,
                row.sms_consent,
                row.email_consent,
                row.prefers_call,
            )
            created.append(found)
            index.add(found)
            report.created += 1
        elif _update(found, row):
            index.add(found)
            report.updated += 1
        else:
            report.unchanged += 1
        matched.append((row, found))
    await uow.session.flush()  # updates of people already known
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
                    **{name: getattr(p, name) for name in _UPDATABLE},
                }
                for p in created
            ],
        )

    known_ids = sorted({p.id for _, p in matched if isinstance(p, Person)})
    open_journeys = (
        set(
            await uow.session.scalars(
                select(Journey.person_id).where(
                    Journey.cohort_id == into.cohort_id,
                    _among(Journey.person_id, known_ids, uow.is_postgres),
                    Journey.closed_at.is_(None),
                )
            )
        )
        if known_ids
        else set()
    )
    today = now.astimezone(into.zone).date()
    journeys = []
    for row, someone in matched:
        if someone.id in open_journeys:
            continue
        entered = row.entered_on or today
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


def _among(column: Any, values: list[Any], postgres: bool) -> Any:
    """``column IN values``; on PostgreSQL one array parameter (``= ANY``) instead of
    thousands of bound values to render and send."""
    if postgres:
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def _update(person: _Someone, row: PersonRow) -> bool:
    """Bring a matched person up to date with the row; True when something changed. Empty
    cells never erase what is known."""
    changed = False
    for name in _UPDATABLE:
        value = getattr(row, name)
        if value is None or getattr(person, name) == value:
            continue
        setattr(person, name, value)
        changed = True
    return changed
