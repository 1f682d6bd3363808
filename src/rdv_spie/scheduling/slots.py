"""Slot engine: at which instants, at which place and with which agents an appointment type can
be booked.

Pure: no I/O, no database, no clock reads. Callers hand in rules, busy intervals, the zone, the
holidays and ``now``; the answer depends on nothing else. Instants are UTC; rules and the grid
live in the territory's wall-clock time, so daylight-saving days are handled here and nowhere
else. Internally instants are integer microseconds since the epoch, so comparisons are exact and
cheap.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_DAY_US = _DAY // _US
_MIDNIGHT = time(0)


class AttendeeRole(StrEnum):
    """The seat an agent takes in an appointment."""

    REFERENT = "referent"
    ANIMATOR = "animator"


@dataclass(frozen=True, slots=True)
class Interval:
    """Half-open [start, end) between tz-aware instants."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """One availability rule of one agent, already filtered to the appointment type."""

    place_id: UUID
    weekdays: frozenset[int]  # 0 = Monday … 6 = Sunday, as date.weekday()
    start_time: time  # local wall-clock time in the territory's zone
    end_time: time  # > start_time: no rule crosses midnight
    valid_from: date
    valid_until: date | None  # inclusive; None = open-ended
    # The structure the hours are opened for: whose time a booking takes (not the engine's).
    organisation_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AgentCalendar:
    """An agent's rules and busy intervals (absences, appointments with their buffer)."""

    agent_id: UUID
    role: AttendeeRole
    rules: tuple[WeeklyRule, ...]
    busy: tuple[Interval, ...]  # any order, may overlap


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """What the appointment type demands."""

    duration: timedelta
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    tripartite: bool = False  # one referent AND one different animator, same place
    place_ids: frozenset[UUID] | None = None  # allowed places; None = any
    grid: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable start at one place, with every agent free to take it."""

    starts_at: datetime  # UTC
    ends_at: datetime  # UTC, starts_at + duration in real elapsed time
    place_id: UUID
    referent_ids: tuple[UUID, ...]  # sorted
    animator_ids: tuple[UUID, ...]  # sorted; empty unless tripartite


def to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time (first one if repeated), None if DST skips it."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    moment = naive.replace(tzinfo=tz).astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return moment


def exists_locally(moment_utc: datetime, tz: ZoneInfo) -> bool:
    """Whether the wall time shown at this instant in ``tz`` converts back to the same instant."""
    local = moment_utc.astimezone(tz)
    back = local.replace(tzinfo=None).replace(tzinfo=tz, fold=local.fold)
    return _us(back.astimezone(UTC)) == _us(moment_utc)


def compute_slots(
    *,
    spec: SlotSpec,
    calendars: Sequence[AgentCalendar],
    tz: ZoneInfo,
    holidays: Container[date],
    now: datetime,
    window_start: datetime,
    window_end: datetime,
) -> list[Slot]:
    """Bookable slots starting in [window_start, window_end), by (starts_at, str(place_id))."""
    duration = spec.duration // _US
    grid = spec.grid // _US
    if duration <= 0 or grid <= 0 or spec.buffer_after < timedelta(0):
        raise ValueError("duration and grid must be positive, buffer_after not negative")
    blocked = duration + spec.buffer_after // _US
    # Offsets are added in microseconds: aware datetime + timedelta is wall-clock arithmetic
    # when `now` carries a zone, which would be an hour off across a DST change.
    now_us = _us(now)
    lo = max(_us(window_start), now_us + spec.min_notice // _US)
    hi = min(_us(window_end), now_us + spec.horizon // _US)  # exclusive
    if lo >= hi:
        return []
    first_day = _at(lo).astimezone(tz).date() - _DAY
    last_day = _at(hi).astimezone(tz).date() + _DAY
    grid_starts = _grid_starts(first_day, last_day, tz, grid)
    starts = grid_starts[bisect_left(grid_starts, lo) : bisect_left(grid_starts, hi)]
    if not starts:
        return []
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    days = [d for d in days if d not in holidays]
    roles = set(AttendeeRole) if spec.tripartite else {AttendeeRole.REFERENT}
    allowed = spec.place_ids
    chosen = sorted(
        (c for c in calendars if c.role in roles), key=lambda c: c.agent_id
    )  # by agent, so each list of free agents is built sorted and a repeat is its last item
    places = sorted(
        {r.place_id for c in chosen for r in c.rules if allowed is None or r.place_id in allowed},
        key=str,
    )
    rank = {place: i for i, place in enumerate(places)}
    width = len(places)
    # Cell i * width + rank holds the free agents at starts[i] and that place: reading the
    # cells in order gives the promised (starts_at, str(place_id)) order without a sort.
    empty: list[list[UUID] | None] = [None] * (len(starts) * width)
    free = {role: empty.copy() for role in roles}
    boundaries: dict[tuple[date, time], int] = {}
    ranges: dict[WeeklyRule, list[tuple[int, int]]] = {}
    same: dict[UUID, UUID] = {}  # one object per agent, so a repeat is found by identity

    for calendar in chosen:
        rules = [r for r in calendar.rules if r.place_id in rank]
        if not rules:
            continue
        busy_starts, busy_ends = _merged(calendar.busy)
        cells = free[calendar.role]
        agent = same.setdefault(calendar.agent_id, calendar.agent_id)
        for rule in rules:
            spans = ranges.get(rule)
            if spans is None:
                spans = ranges[rule] = _start_ranges(rule, days, tz, boundaries, lo, hi, duration)
            place = rank[rule.place_id]
            for first, last in spans:
                for p, q in _free_ranges(first, last, busy_starts, busy_ends, blocked):
                    for cell in range(
                        bisect_left(starts, p) * width + place,
                        bisect_right(starts, q) * width,
                        width,
                    ):
                        ids = cells[cell]
                        if ids is None:
                            cells[cell] = [agent]
                        elif ids[-1] is not agent:
                            ids.append(agent)

    referents = free[AttendeeRole.REFERENT]
    animators = free.get(AttendeeRole.ANIMATOR, empty)
    slots: list[Slot] = []
    for cell, found in enumerate(referents):
        if found is None:
            continue
        paired: list[UUID] = []
        if spec.tripartite:
            paired = animators[cell] or []
            if not _pair_exists(found, paired):
                continue
        index, place = divmod(cell, width)
        starts_at = _at(starts[index])
        slots.append(
            Slot(
                starts_at=starts_at,
                ends_at=starts_at + spec.duration,
                place_id=places[place],
                referent_ids=tuple(found),
                animator_ids=tuple(paired),
            )
        )
    return slots


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _pair_exists(referents: list[UUID], animators: list[UUID]) -> bool:
    # One person cannot hold both seats of a tripartite appointment.
    if not animators:
        return False
    return len(referents) > 1 or len(animators) > 1 or referents[0] != animators[0]


def _grid_starts(first_day: date, last_day: date, tz: ZoneInfo, grid: int) -> list[int]:
    """Sorted instants whose local wall time is a whole number of grid steps after midnight."""
    found: list[int] = []
    irregular = False
    day = first_day
    while day <= last_day:
        midnight = datetime.combine(day, _MIDNIGHT, tzinfo=tz)
        following = datetime.combine(day + _DAY, _MIDNIGHT, tzinfo=tz)
        offset = midnight.utcoffset()
        # Same offset at both midnights, whatever the fold: no transition touches this day
        # (no zone shifts and shifts back within one local day).
        if (
            offset
            == midnight.replace(fold=1).utcoffset()
            == following.utcoffset()
            == following.replace(fold=1).utcoffset()
        ):
            base = _us(midnight)
            found.extend(range(base, base + _DAY_US, grid))
        else:
            found.extend(_transition_day_starts(day, tz, grid))
            irregular = True
        day += _DAY
    # Only a transition day can break the order, or repeat an instant of the day next to it.
    return sorted(set(found)) if irregular else found


def _transition_day_starts(day: date, tz: ZoneInfo, grid: int) -> list[int]:
    # Skipped wall times give nothing; repeated ones give both instants.
    found: list[int] = []
    midnight = datetime.combine(day, _MIDNIGHT)
    for step in range(0, _DAY_US, grid):
        naive = midnight + timedelta(microseconds=step)
        for fold in (0, 1):
            moment = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
            if moment.astimezone(tz).replace(tzinfo=None) == naive:
                found.append(_us(moment))
    return found


def _boundary(day: date, wall: time, tz: ZoneInfo, cache: dict[tuple[date, time], int]) -> int:
    """A rule boundary as an instant; a wall time DST skips becomes the instant of the jump."""
    key = (day, wall)
    known = cache.get(key)
    if known is not None:
        return known
    moment = to_utc(day, wall, tz)
    if moment is not None:
        cache[key] = _us(moment)
        return cache[key]
    local = datetime.combine(day, wall.replace(tzinfo=None), tzinfo=tz)
    # In a gap, fold=1 reads the wall time with the later offset (an instant before the jump),
    # fold=0 with the earlier one (after it); bisect for the first instant on the new offset.
    before = _us(local.replace(fold=1).astimezone(UTC))
    after = _us(local.replace(fold=0).astimezone(UTC))
    new_offset = _at(after).astimezone(tz).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if _at(middle).astimezone(tz).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    cache[key] = after
    return after


def _start_ranges(
    rule: WeeklyRule,
    days: Iterable[date],
    tz: ZoneInfo,
    boundaries: dict[tuple[date, time], int],
    lo: int,
    hi: int,
    duration: int,
) -> list[tuple[int, int]]:
    """Inclusive [first, last] start ranges, one per opening of the rule, clipped to [lo, hi)."""
    spans: list[tuple[int, int]] = []
    for day in days:
        if (
            day.weekday() not in rule.weekdays
            or day < rule.valid_from
            or (rule.valid_until is not None and day > rule.valid_until)
        ):
            continue
        opens = _boundary(day, rule.start_time, tz, boundaries)
        closes = _boundary(day, rule.end_time, tz, boundaries)
        first, last = max(opens, lo), min(closes - duration, hi - 1)
        if first <= last:
            spans.append((first, last))
    return spans


def _merged(busy: Iterable[Interval]) -> tuple[list[int], list[int]]:
    """Busy intervals as sorted, disjoint [start, end) bounds."""
    epoch, us = _EPOCH, _US  # inlined _us: this runs for every busy interval of every agent
    spans = [((b.start - epoch) // us, (b.end - epoch) // us) for b in busy]
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for s, e in spans:
        if e <= s:
            continue
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def _free_ranges(
    first: int, last: int, busy_starts: list[int], busy_ends: list[int], length: int
) -> list[tuple[int, int]]:
    """Sub-ranges of [first, last] whose starts s keep [s, s + length) clear of busy time."""
    # A busy [b, e) rules out exactly the starts in (b - length, e).
    free: list[tuple[int, int]] = []
    current = first
    i = bisect_right(busy_ends, first)
    count = len(busy_starts)
    while i < count and current <= last:
        stop = busy_starts[i] - length
        if stop >= last:
            break
        if stop >= current:
            free.append((current, stop))
        current = max(current, busy_ends[i])
        i += 1
    if current <= last:
        free.append((current, last))
    return free
