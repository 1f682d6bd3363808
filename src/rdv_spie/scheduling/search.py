"""Slot search: load what the pure engine needs, then ask it. Listing slots (``find_slots``)
and checking a booking (taking.take_slot) load through the same ``load_context`` and ask the
same engine, so they can never disagree."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import raiseload

from rdv_spie import localtime
from rdv_spie.agents.models import Role
from rdv_spie.db import calendar_version
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import DomainError, Invalid, NotFound
from rdv_spie.localtime import check_instant
from rdv_spie.scheduling import queries
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.cache import BoundedCache, LoadedRule, SlotCache
from rdv_spie.scheduling.models import AppointmentType, Attendance
from rdv_spie.territories.holidays import holidays_between
from rdv_spie.territories.models import Territory

MAX_WINDOW = timedelta(days=62)
# No appointment plus its buffer lasts longer (service._TYPE_LIMITS caps 8 h + 4 h).
MAX_APPOINTMENT_SPAN = timedelta(days=1)
_WEEKDAYS = [frozenset(d for d in range(7) if mask & (1 << d)) for mask in range(128)]


def _rule_order(rule: engine.WeeklyRule) -> tuple[str, int, object, object]:
    return (str(rule.place_id), min(rule.weekdays), rule.start_time, rule.valid_from)


@dataclass(frozen=True, slots=True)
class SearchContext:
    """Everything the engine needs for one search: the zone, the type's demands, the calendars."""

    tz: ZoneInfo
    spec: engine.SlotSpec
    calendars: tuple[engine.AgentCalendar, ...]
    holidays: frozenset[date]
    # The absences among the calendars' busy intervals, by agent (without_appointments).
    absences: dict[uuid.UUID, list[engine.Interval]]

    def without_appointments(self) -> SearchContext:
        """The same calendars as if no appointment were booked: whether a slot that is not
        free exists at all (taking.take_slot answers 409 rather than 422)."""
        return replace(
            self,
            calendars=tuple(
                replace(c, busy=tuple(self.absences.get(c.agent_id, ()))) for c in self.calendars
            ),
        )


async def load_type(uow: UnitOfWork, type_id: uuid.UUID) -> tuple[AppointmentType, Territory]:
    """An active appointment type and its territory, or NotFound naming the field. The type's
    ``allowed_places`` is not loaded (reading it raises): slot code reads the place ids."""
    appointment_type, territory, _ = await _load_type_and_version(uow, type_id)
    return appointment_type, territory


@dataclass(frozen=True, slots=True)
class KeptRules:
    """Where the opening hours loaded for the counters read in this transaction are kept."""

    cache: BoundedCache[LoadedRule]
    version: tuple[int, int, int]


async def load_type_keeping(
    uow: UnitOfWork, type_id: uuid.UUID, cache: SlotCache | None
) -> tuple[AppointmentType, Territory, KeptRules | None]:
    """``load_type``, and (with a ``cache``) where ``load_context`` may keep and find the
    type's opening hours under the counters read with it."""
    appointment_type, territory, version = await _load_type_and_version(uow, type_id)
    return appointment_type, territory, _keeping(uow, cache, version)


def _keeping(
    uow: UnitOfWork, cache: SlotCache | None, version: tuple[int, int, int] | None
) -> KeptRules | None:
    """Where results computed under ``version`` may be kept and found: nowhere without a
    cache, without the counters, or once this transaction has changed the calendars (its
    own changes are not in the counters until it commits)."""
    if cache is None or version is None or calendar_version.changed_here(uow.session.sync_session):
        return None
    return KeptRules(cache.rules, version)


@cache
def _type_and_version() -> Select[*tuple[Any, ...]]:
    """Built once (every slot search runs it): a type, its territory, and the calendar
    counters its slots and opening hours depend on (db/calendar_version.py), read in the same
    statement."""
    return (
        select(
            AppointmentType,
            Territory,
            calendar_version.shape_version(),
            calendar_version.territory_version(Territory.id),
            calendar_version.rules_version(Territory.id),
        )
        .options(raiseload(AppointmentType.allowed_places))  # load_context reads the ids
        .join(Territory, Territory.id == AppointmentType.territory_id)
        .where(AppointmentType.id == bindparam("type_id"))
    )


async def _load_type_and_version(
    uow: UnitOfWork, type_id: uuid.UUID
) -> tuple[AppointmentType, Territory, tuple[int, int, int] | None]:
    """The type, its territory and the counters (shared, territory's, territory's rules)."""
    row = (await uow.session.execute(_type_and_version(), {"type_id": type_id})).first()
    if row is None or not row[0].active:
        raise NotFound("appointment type not found", field="appointment_type_id")
    version = None if row[2] is None else (row[2], row[3], row[4])
    return row[0], row[1], version


def spec_for(
    appointment_type: AppointmentType,
    *,
    grid_minutes: int = 15,
    place_ids: frozenset[uuid.UUID] | None = None,
) -> engine.SlotSpec:
    """The engine's view of an appointment type, optionally narrowed to some places (the
    type's own places are checked by the rule query, queries.rules)."""
    return engine.SlotSpec(
        duration=timedelta(minutes=appointment_type.duration_minutes),
        buffer_after=timedelta(minutes=appointment_type.buffer_after_minutes),
        min_notice=timedelta(minutes=appointment_type.min_notice_minutes),
        horizon=timedelta(days=appointment_type.horizon_days),
        tripartite=appointment_type.attendance == Attendance.TRIPARTITE,
        place_ids=place_ids,
        grid=timedelta(minutes=grid_minutes),
    )


async def load_context(
    *,
    uow: UnitOfWork,
    type_id: uuid.UUID,
    window_start: datetime,
    window_end: datetime,
    place_ids: frozenset[uuid.UUID] | None = None,
    ignore_appointment_id: uuid.UUID | None = None,
    grid_minutes: int = 15,
    loaded: tuple[AppointmentType, Territory] | None = None,
    organisation_ids: frozenset[uuid.UUID] | None = None,
    covering: datetime | None = None,
    kept: KeptRules | None = None,
) -> SearchContext:
    """Load rules, absences, appointments and holidays around a window (``loaded``: the type
    and territory when the caller already has them; ``organisation_ids``: only the hours
    opened for these structures; ``covering``: only the rules that hold a slot starting
    then, for a booking; ``kept``: where the rules loaded under the counters read in this
    transaction are kept)."""
    appointment_type, territory = loaded or await load_type(uow, type_id)
    tz = localtime.zone(territory.timezone)
    spec = spec_for(appointment_type, grid_minutes=grid_minutes, place_ids=place_ids)
    first_day = (window_start.astimezone(tz) - timedelta(days=1)).date()
    last_day = (window_end.astimezone(tz) + timedelta(days=1)).date()
    values: dict[str, Any] = {
        "type_id": type_id,
        "territory_id": territory.id,
        "first_day": first_day,
        "last_day": last_day,
    }
    places = queries.count(spec.place_ids)
    if spec.place_ids is not None:
        values["place_ids"] = queries.bound(spec.place_ids, places)
    if covering is not None:
        local = covering.astimezone(tz)
        values["weekday_bit"] = 1 << local.weekday()
        values["from_time"] = local.time()
        values["to_time"] = (covering + spec.duration).astimezone(tz).time()
    loaded_rules: Sequence[LoadedRule] | None
    if kept is None:
        rule_query = queries.rules(uow.is_postgres, places, covering is not None)
        loaded_rules = await _load_rules(uow, rule_query, values)
        covers = None  # the query kept only the rules that hold the slot
    else:  # the hours depend on the shared counter and the territory's rules counter only
        shape, _, rules_version = kept.version
        key = (type_id, territory.id, spec.place_ids, first_day, last_day, shape, rules_version)
        loaded_rules = kept.cache.get(key)
        if loaded_rules is None:
            rule_query = queries.rules(uow.is_postgres, places)
            loaded_rules = kept.cache.put(key, await _load_rules(uow, rule_query, values))
        covers = None if covering is None else _covering(values)

    rules: dict[tuple[uuid.UUID, engine.AttendeeRole], set[engine.WeeklyRule]] = defaultdict(set)
    for agent, seat, rule in loaded_rules:
        if organisation_ids is not None and rule.organisation_id not in organisation_ids:
            continue  # hours another structure gives (queries.rules says why not in SQL)
        if covers is not None and not covers(rule):
            continue  # hours that cannot hold the slot: their agents' times are not read
        rules[(agent, seat)].add(rule)
    agents = {agent for agent, _ in rules}
    absences: dict[uuid.UUID, list[engine.Interval]] = defaultdict(list)
    busy = await load_busy(
        uow=uow,
        agent_ids=agents,
        start=window_start,
        end=window_end + spec.duration + spec.buffer_after,
        ignore_appointment_id=ignore_appointment_id,
        absences=absences,
    )
    calendars = tuple(
        engine.AgentCalendar(
            agent_id=agent,
            role=role,
            rules=tuple(sorted(found, key=_rule_order)),
            busy=tuple(busy.get(agent, ())),
        )
        for (agent, role), found in sorted(rules.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    )
    return SearchContext(
        tz=tz,
        spec=spec,
        calendars=calendars,
        holidays=holidays_between(territory.holiday_zone, first_day, last_day),
        absences=absences,
    )


def _covering(values: dict[str, Any]) -> Callable[[engine.WeeklyRule], bool]:
    """The covering condition of ``queries.rules``, on a loaded rule."""
    weekday = values["weekday_bit"].bit_length() - 1
    from_time, to_time = values["from_time"], values["to_time"]
    return lambda rule: (
        weekday in rule.weekdays and rule.start_time <= from_time and rule.end_time >= to_time
    )


async def _load_rules(
    uow: UnitOfWork, rule_query: Select[Any], values: dict[str, Any]
) -> list[LoadedRule]:
    """The opening hours the rule query finds, as the engine reads them. Plain columns, not
    ORM objects: this runs on every slot search that is not answered from a cache."""
    return [
        (
            agent,
            queries.SLOT_ROLE[Role(role)],
            engine.WeeklyRule(
                place_id=place,
                weekdays=_WEEKDAYS[mask],
                start_time=start,
                end_time=end,
                valid_from=since,
                valid_until=until,
                organisation_id=organisation,
            ),
        )
        for agent, place, mask, start, end, since, until, role, organisation in (
            await uow.session.execute(rule_query, values)
        ).all()
    ]


async def load_busy(
    *,
    uow: UnitOfWork,
    agent_ids: set[uuid.UUID] | frozenset[uuid.UUID],
    start: datetime,
    end: datetime,
    ignore_appointment_id: uuid.UUID | None = None,
    absences: dict[uuid.UUID, list[engine.Interval]] | None = None,
) -> dict[uuid.UUID, list[engine.Interval]]:
    """Absences and active appointments, with their buffer, of agents overlapping [start,
    end); the absences also go to ``absences`` when given."""
    busy: dict[uuid.UUID, list[engine.Interval]] = defaultdict(list)
    if not agent_ids:
        return busy
    # Rows come back raw (no per-value type processing): this runs on every slot search and
    # returns hundreds of rows; _instant() and `agents` do the conversion cheaply.
    ignoring = ignore_appointment_id is not None
    query = queries.busy(uow.is_postgres, ignoring)
    values: dict[str, Any] = {
        "agent_ids": list(agent_ids),
        "start": start,
        "end": end,
        "floor": start - MAX_APPOINTMENT_SPAN,
    }
    if ignoring:
        values["ignore_id"] = ignore_appointment_id
    agents: dict[object, uuid.UUID] = {a: a for a in agent_ids} | {a.hex: a for a in agent_ids}
    for agent, s, e, away in (await uow.session.execute(query, values)).all():
        interval = engine.Interval(_instant(s), _instant(e))
        busy[agents[agent]].append(interval)
        if away and absences is not None:
            absences[agents[agent]].append(interval)
    return busy


def _instant(value: str | datetime) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite: text written in UTC)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def compute(
    context: SearchContext,
    *,
    now: datetime,
    window_start: datetime,
    window_end: datetime,
) -> list[engine.Slot]:
    """Run the pure engine on a loaded context."""
    return engine.compute_slots(
        spec=context.spec,
        calendars=context.calendars,
        tz=context.tz,
        holidays=context.holidays,
        now=now,
        window_start=window_start,
        window_end=window_end,
    )


def check_window(window_start: datetime, window_end: datetime) -> None:
    """Reject naive datetimes, reversed or oversized windows, naming the field."""
    check_instant("from", window_start)
    check_instant("to", window_end)
    if window_end <= window_start:
        raise Invalid("'to' must be after 'from'", field="to")
    if window_end - window_start > MAX_WINDOW:
        raise Invalid(f"the date range may span at most {MAX_WINDOW.days} days", field="to")


async def find_slots(
    *,
    uow: UnitOfWork,
    now: datetime,
    type_id: uuid.UUID,
    window_start: datetime,
    window_end: datetime,
    place_ids: frozenset[uuid.UUID] | None = None,
    grid_minutes: int = 15,
    cache: SlotCache | None = None,
    visible: Callable[[Territory], None] | None = None,
    organisation_ids: frozenset[uuid.UUID] | None = None,
) -> tuple[Territory, list[engine.Slot]]:
    """Bookable slots of a type starting in [window_start, window_end), and its territory.

    ``visible`` may refuse the territory before anything else is read. With a ``cache``, the
    slots are computed without "now" under the current calendar version and filtered by the
    clock here, so a cached entry stays right as time passes.
    """
    check_window(window_start, window_end)
    appointment_type, territory, version = await _load_type_and_version(uow, type_id)
    if visible is not None:
        visible(territory)
    kept = _keeping(uow, cache, version)
    if kept is None:  # no counters, or this transaction's own changes are not in them yet
        cache = None
    key = (type_id, place_ids, organisation_ids, window_start, window_end, grid_minutes, version)
    found = cache.get(key) if cache is not None else None
    if found is None:
        context = await load_context(
            uow=uow,
            type_id=type_id,
            window_start=window_start,
            window_end=window_end,
            place_ids=place_ids,
            grid_minutes=grid_minutes,
            loaded=(appointment_type, territory),
            organisation_ids=organisation_ids,
            kept=kept,
        )
        timeless = replace(
            context.spec,
            min_notice=timedelta(0),
            horizon=window_end - window_start + timedelta(days=1),
        )
        found = tuple(
            engine.compute_slots(
                spec=timeless,
                calendars=context.calendars,
                tz=context.tz,
                holidays=context.holidays,
                now=window_start,
                window_start=window_start,
                window_end=window_end,
            )
        )
        if cache is not None:
            cache.put(key, found)
    earliest = now + timedelta(minutes=appointment_type.min_notice_minutes)
    latest = now + timedelta(days=appointment_type.horizon_days)
    return territory, [s for s in found if earliest <= s.starts_at < latest]


async def slots_by_window(
    *,
    uow: UnitOfWork,
    now: datetime,
    type_id: uuid.UUID,
    start: datetime,
    end: datetime,
    grid_minutes: int,
    cache: SlotCache | None = None,
) -> AsyncIterator[list[engine.Slot]]:
    """Bookable slots of a type starting in [start, end), one search window (at most
    MAX_WINDOW) at a time, earliest window first, so a caller may stop at the first it needs.
    A type that cannot be searched (inactive, gone) yields nothing."""
    while start < end:
        stop = min(end, start + MAX_WINDOW)
        try:
            _, found = await find_slots(
                uow=uow,
                now=now,
                type_id=type_id,
                window_start=start,
                window_end=stop,
                grid_minutes=grid_minutes,
                cache=cache,
            )
        except DomainError:
            return
        yield found
        start = stop
