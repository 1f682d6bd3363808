"""Public holidays by zone, from the ``holidays`` package (pure, cached per zone and year)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as holidays_lib

from rdv_spie.territories.models import HolidayZone

# Subdivision codes of holidays.France; Moselle ("57") shares Alsace's two extra days.
_SUBDIVISION: dict[HolidayZone, str | None] = {
    HolidayZone.METROPOLE: None,
    HolidayZone.ALSACE_MOSELLE: "6AE",
    HolidayZone.GUADELOUPE: "971",
    HolidayZone.MARTINIQUE: "972",
    HolidayZone.GUYANE: "973",
    HolidayZone.REUNION: "974",
    HolidayZone.MAYOTTE: "976",
}


@lru_cache(maxsize=256)
def _year(zone: HolidayZone, year: int) -> frozenset[date]:
    calendar = holidays_lib.country_holidays("FR", subdiv=_SUBDIVISION[zone], years=year)
    return frozenset(calendar.keys())


def holidays_between(zone: HolidayZone | str, first: date, last: date) -> frozenset[date]:
    """Holiday dates of ``zone`` from ``first`` to ``last`` inclusive."""
    zone = HolidayZone(zone)
    days: set[date] = set()
    for year in range(first.year, last.year + 1):
        days.update(d for d in _year(zone, year) if first <= d <= last)
    return frozenset(days)
