"""Time zones: validate IANA names and convert at the edges."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rdv_spie.errors import Invalid


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or an Invalid error naming the field."""
    if name not in _known():
        raise Invalid(f"unknown IANA time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - _known() guards this
        raise Invalid(f"unknown IANA time zone {name!r}", field="timezone") from exc


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week (pages show weeks Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())
