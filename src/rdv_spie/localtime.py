"""Time at the edges: a territory's zone, its local days and weeks, a sane instant.

Instants are UTC everywhere inside the service; local time appears only where a person reads
or types a day or an hour, with the territory's IANA zone. Pure: no clock, no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rdv_spie.errors import Invalid

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or an Invalid error naming the field."""
    if name not in _known():
        raise Invalid(f"unknown IANA time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - _known() guards this
        raise Invalid(f"unknown IANA time zone {name!r}", field="timezone") from exc


def repeated(local: datetime) -> bool:
    """The wall-clock time happens twice in its zone (the repeated autumn hour): calendar
    clients disagree on which pass a TZID time there means, so it is written in UTC."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The local calendar day of an instant."""
    return at.astimezone(zone).date()


def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant after ``day`` ends, local midnight, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week (pages show weeks Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def check_instant(name: str, value: datetime) -> None:
    """Reject a naive or absurd instant, naming the field."""
    if value.tzinfo is None:
        raise Invalid(f"{name} must carry a UTC offset, e.g. 2026-12-01T09:00:00+01:00", field=name)
    if not EARLIEST <= value < LATEST:
        raise Invalid(f"{name} must be between 2000 and 2100", field=name)


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())
