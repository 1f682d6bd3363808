"""Slot search: load what the pure engine needs, then ask it. Listing slots (``find_slots``)
and checking a booking (taking.take_slot) load through the same ``load_context`` and ask the
same engine, so they can never disagree."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import raiseload

from rdv_spie import localtime
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db import calendar_version
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import DomainError, Invalid, NotFound
from rdv_spie.localtime import check_instant
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.models import (
    Absence,
    AppointmentAgent,
    AppointmentType,
    Attendance,
    AvailabilityRule,
    appointment_type_place,
    availability_rule_type,
)
from rdv_spie.territories.holidays import holidays_between
from rdv_spie.territories.models import Organisation, Place, Territory

MAX_WINDOW = timedelta(days=62)
# No appointment plus its buffer lasts longer (service._TYPE_LIMITS caps 8 h + 4 h).
MAX_APPOINTMENT_SPAN = timedelta(days=1)
_WEEKDAYS = [frozenset(d for d in range(7) if mask & (1 << d)) for mask in range(128)]


def _rule_order(rule: engine.WeeklyRule) -> tuple[str, int, object, object]:
    return (str(rule.place_id), min(rule.weekdays), rule.start_time, rule.valid_from)


_ROLE_FOR = {
    Role.REFERENT: engine.AttendeeRole.REFERENT,
    Role.ADMIN: engine.AttendeeRole.REFERENT,
    Role.ANIMATOR: engine.AttendeeRole.ANIMATOR,
}


@dataclass(frozen=True, slots=True)
class SearchContext:
    """Everything the engine needs for one search: the zone, the type's demands, the calendars."""

    tz: ZoneInfo
    spec: engine.SlotSpec
    calendars: tuple[engine.AgentCalendar, ...]
    holidays: frozenset[date]


async def load_type(uow: UnitOfWork, type_id: uuid.UUID) -> tuple[AppointmentType, Territory]:
    """An active appointment type and its territory, or NotFound naming the field. The type's
    ``allowed_places`` is not loaded (reading it raises): slot code reads the place ids."""
    appointment_type, territory, _ = await _load_type_and_version(uow, type_id)
    return appointment_type, territory


@cache
def _type_and_version() -> Select[*tuple[Any, ...]]:
    """Built once (every slot search runs it): a type, its territory, and the calendar
    counters its slots depend on (db/calendar_version.py), read in the same statement."""
    return (
        select(
            AppointmentType,
            Territory,
            calendar_version.shape_version(),
            calendar_version.territory_version(Territory.id),
        )
        .options(raiseload(AppointmentType.allowed_places))  # load_context reads the ids
        .join(Territory, Territory.id == AppointmentType.territory_id)
        .where(AppointmentType.id == bindparam("type_id"))
    )


async def _load_type_and_version(
    uow: UnitOfWork, type_id: uuid.UUID
) -> tuple[AppointmentType, Territory, tuple[int, int] | None]:
    row = (await uow.session.execute(_type_and_version(), {"type_id": type_id})).first()
    if row is None or not row[0].active:
        raise NotFound("appointment type not found", field="appointment_type_id")
    version = None if row[2] is None else (row[2], row[3])
    return row[0], row[1], version


def spec_for(
    appointment_type: AppointmentType,
    allowed_place_ids: frozenset[uuid.UUID],
    *,
    grid_minutes: int = 15,
    place_ids: frozenset[uuid.UUID] | None = None,
) -> engine.SlotSpec:
    """The engine's view of an appointment type, optionally narrowed to some places."""
    allowed = allowed_place_ids or None
    if place_ids is not None:
        allowed = place_ids if allowed is None else allowed & place_ids
    return engine.SlotSpec(
        duration=timedelta(minutes=appointment_type.duration_minutes),
        buffer_after=timedelta(minutes=appointment_type.buffer_after_minutes),
        min_notice=timedelta(minutes=appointment_type.min_notice_minutes),
        horizon=timedelta(days=appointment_type.horizon_days),
        tripartite=appointment_type.attendance == Attendance.TRIPARTITE,
        place_ids=allowed,
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
    with_appointments: bool = True,
    loaded: tuple[AppointmentType, Territory] | None = None,
    organisation_ids: frozenset[uuid.UUID] | None = None,
) -> SearchContext:
    """Load rules, absences, appointments and holidays around a window (``loaded``: the type
    and territory when the caller already has them; ``organisation_ids``: only the hours
    opened for these structures)."""
    appointment_type, territory = loaded or await load_type(uow, type_id)
    tz = localtime.zone(territory.timezone)
    allowed_places = frozenset(
        await uow.session.scalars(
            select(appointment_type_place.c.place_id).where(
                appointment_type_place.c.appointment_type_id == appointment_type.id
            )
        )
    )
    spec = spec_for(
        appointment_type, allowed_places, grid_minutes=grid_minutes, place_ids=place_ids
    )
    first_day = (window_start.astimezone(tz) - timedelta(days=1)).date()
    last_day = (window_end.astimezone(tz) + timedelta(days=1)).date()

    rule_query = (
        select(
            AvailabilityRule.agent_id,
            AvailabilityRule.place_id,
            AvailabilityRule.weekdays,
            AvailabilityRule.start_time,
            AvailabilityRule.end_time,
            AvailabilityRule.valid_from,
            AvailabilityRule.valid_until,
            Membership.role,
        )
        .join(
            availability_rule_type,
            availability_rule_type.c.availability_rule_id == AvailabilityRule.id,
        )
        .join(Agent, Agent.id == AvailabilityRule.agent_id)
        # The agent's role in the structure the hours are opened for.
        .join(
            Membership,
            and_(
                Membership.agent_id == Agent.id,
                Membership.organisation_id == AvailabilityRule.organisation_id,
            ),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(Place, Place.id == AvailabilityRule.place_id)
        .where(
            availability_rule_type.c.appointment_type_id == type_id,
            Organisation.territory_id == territory.id,
            Membership.role.in_([r.value for r in _ROLE_FOR]),
            Agent.active,
            Place.active,
            AvailabilityRule.valid_from <= last_day,
            or_(AvailabilityRule.valid_until.is_(None), AvailabilityRule.valid_until >= first_day),
        )
    )
    if spec.place_ids is not None:
        rule_query = rule_query.where(_among(AvailabilityRule.place_id, spec.place_ids, uow))
    if organisation_ids is not None:
        rule_query = rule_query.where(
            _among(AvailabilityRule.organisation_id, organisation_ids, uow)
        )

    # Plain columns, not ORM objects: this runs on every slot search.
    rules: dict[tuple[uuid.UUID, engine.AttendeeRole], set[engine.WeeklyRule]] = defaultdict(set)
    for agent, place, mask, start, end, since, until, role in (
        await uow.session.execute(rule_query)
    ).all():
        rules[(agent, _ROLE_FOR[Role(role)])].add(
            engine.WeeklyRule(
                place_id=place,
                weekdays=_WEEKDAYS[mask],
                start_time=start,
                end_time=end,
                valid_from=since,
                valid_until=until,
            )
        )
    agents = {agent for agent, _ in rules}
    busy = await load_busy(
        uow=uow,
        agent_ids=agents,
        start=window_start,
        end=window_end + spec.duration + spec.buffer_after,
        ignore_appointment_id=ignore_appointment_id,
        with_appointments=with_appointments,
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
    )


async def load_busy(
    *,
    uow: UnitOfWork,
    agent_ids: set[uuid.UUID] | frozenset[uuid.UUID],
    start: datetime,
    end: datetime,
    ignore_appointment_id: uuid.UUID | None = None,
    with_appointments: bool = True,
) -> dict[uuid.UUID, list[engine.Interval]]:
    """Absences and (unless told not to) active appointments, with their buffer, of agents
    overlapping [start, end)."""
    busy: dict[uuid.UUID, list[engine.Interval]] = defaultdict(list)
    if not agent_ids:
        return busy
    # Rows come back raw (no per-value type processing): this runs on every slot search and
    # returns hundreds of rows; _instant() and `agents` do the conversion cheaply.
    taken = select(
        _raw(AppointmentAgent.agent_id),
        _raw(AppointmentAgent.starts_at),
        _raw(AppointmentAgent.busy_until),
    ).where(
        _among(AppointmentAgent.agent_id, agent_ids, uow),
        AppointmentAgent.active,
        AppointmentAgent.starts_at < end,
        AppointmentAgent.busy_until > start,
        # A lower bound on starts_at lets the (agent_id, starts_at) index skip the past.
        AppointmentAgent.starts_at > start - MAX_APPOINTMENT_SPAN,
    )
    if ignore_appointment_id is not None:
        taken = taken.where(AppointmentAgent.appointment_id != ignore_appointment_id)
    away = select(_raw(Absence.agent_id), _raw(Absence.starts_at), _raw(Absence.ends_at)).where(
        and_(
            _among(Absence.agent_id, agent_ids, uow),
            Absence.starts_at < end,
            Absence.ends_at > start,
        )
    )
    agents: dict[object, uuid.UUID] = {a: a for a in agent_ids} | {a.hex: a for a in agent_ids}
    query = taken.union_all(away) if with_appointments else away
    for agent, s, e in (await uow.session.execute(query)).all():
        busy[agents[agent]].append(engine.Interval(_instant(s), _instant(e)))
    return busy


def _among(column: Any, ids: Iterable[uuid.UUID], uow: UnitOfWork) -> Any:
    """``column IN ids``: on PostgreSQL as ``= ANY`` of one array parameter, which costs the
    same whatever the count (an IN list renders one parameter per id on every execution)."""
    if uow.is_postgres:
        return column == any_(literal(list(ids), ARRAY(Uuid)))
    return column.in_(ids)


def _raw(column: Any) -> Any:
    return type_coerce(column, String)


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
    if version is None:  # the counter row is missing: never trust a cached entry
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
