"""The week-by-week view of slots on the public pages: weeks, days, the link format of a slot
(pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from rdv_spie.scheduling.slots import Slot
from rdv_spie.territories.timezones import monday_of

_INSTANT = "%Y-%m-%dT%H:%MZ"


def parse_day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` query value, or None when absent or malformed."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def format_instant(at: datetime) -> str:
    """A slot start as it travels in a link: ``2026-12-02T08:00Z`` (UTC)."""
    return at.astimezone(UTC).strftime(_INSTANT)


def parse_instant(value: str | None) -> datetime | None:
    """The inverse of ``format_instant``; None when malformed."""
    try:
        return datetime.strptime(value or "", _INSTANT).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of the week shown and its slots, in order."""

    day: date
    slots: list[Slot]


@dataclass(frozen=True, slots=True)
class WeekView:
    """The week shown, its neighbours (None when out of range) and its days with slots."""

    start: date
    previous: date | None
    following: date | None
    days: list[Day]
    next_available: Slot | None  # the first slot after this week, when this week has none


def week_view(
    slots: Sequence[Slot], zone: ZoneInfo, *, today: date, last_day: date, asked: date | None
) -> WeekView:
    """The week ``asked`` (default: the week of the first slot, else this week), kept between
    this week and the week of ``last_day``."""
    first, last = monday_of(today), monday_of(last_day)
    if asked is not None:
        start = monday_of(asked)
    elif slots:
        start = monday_of(slots[0].starts_at.astimezone(zone).date())
    else:
        start = first
    start = min(max(start, first), max(first, last))
    end = start + timedelta(days=7)
    days: dict[date, list[Slot]] = {}
    after: Slot | None = None
    for slot in slots:
        local = slot.starts_at.astimezone(zone).date()
        if start <= local < end:
            days.setdefault(local, []).append(slot)
        elif local >= end and after is None:
            after = slot
    return WeekView(
        start=start,
        previous=start - timedelta(days=7) if start > first else None,
        following=end if end <= last else None,
        days=[Day(d, s) for d, s in sorted(days.items())],
        next_available=after if not days else None,
    )
