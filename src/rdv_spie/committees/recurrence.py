"""Session dates from a series' RRULE, and the instants of a session's cycle.

Pure: no clock, no database. Dates are local to the territory; instants leave here in UTC. A
local time that does not exist (the spring-forward gap) is read with the offset in force before
it, which lands after the gap, never on a time that never happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from rdv_spie.errors import Invalid

_ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_FORBIDDEN = ("DTSTART", "TZID", "BYHOUR", "BYMINUTE", "BYSECOND")


def check_rule(rule: str) -> str:
    """The rule, normalised (upper case, no spaces), or Invalid naming the field."""
    text = rule.strip().upper().removeprefix("RRULE:").replace(" ", "")
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    if parts.get("FREQ") not in _ALLOWED_FREQ or any(k in parts for k in _FORBIDDEN):
        raise Invalid(
            "the rule must be an RRULE with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY, "
            "without DTSTART or times (e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TH)",
            field="rrule",
        )
    try:
        rrulestr(text, dtstart=datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None))
    except (ValueError, TypeError) as exc:
        raise Invalid(f"the rule cannot be read: {exc}", field="rrule") from exc
    return text


def dates(rule: str, *, starts_on: date, first: date, last: date) -> list[date]:
    """The rule's local dates in [first, last], counted from ``starts_on`` (DTSTART)."""
    recurrence = rrulestr(check_rule(rule), dtstart=datetime.combine(starts_on, time(0)))
    found = recurrence.between(
        datetime.combine(max(first, starts_on), time(0)),
        datetime.combine(last, time(0)),
        inc=True,
    )
    return [d.date() for d in found]


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (fold 0: before a repeated hour, after a gap)."""
    return datetime.combine(day, at, zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Timing:
    """What a series says about when things happen around one session."""

    start_time: time
    duration_minutes: int
    deadline_days_before: int
    deadline_time: time
    freeze_days_before: int
    dispatch_days_before: int
    dispatch_time: time


@dataclass(frozen=True, slots=True)
class Cycle:
    """The instants of one session's cycle, in UTC."""

    starts_at: datetime
    ends_at: datetime
    deadline_at: datetime
    freeze_at: datetime
    dispatch_at: datetime


def cycle(starts_at: datetime, timing: Timing, zone: ZoneInfo) -> Cycle:
    """Deadline, freeze (start of D-n, never before the deadline) and dispatch (D-n at its
    time, never before the freeze) of a session starting at ``starts_at``."""
    day = starts_at.astimezone(zone).date()
    deadline = local_instant(
        day - timedelta(days=timing.deadline_days_before), timing.deadline_time, zone
    )
    freeze = max(
        deadline, local_instant(day - timedelta(days=timing.freeze_days_before), time(0), zone)
    )
    dispatch = max(
        freeze,
        local_instant(
            day - timedelta(days=timing.dispatch_days_before), timing.dispatch_time, zone
        ),
    )
    return Cycle(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=timing.duration_minutes),
        deadline_at=deadline,
        freeze_at=freeze,
        dispatch_at=dispatch,
    )
