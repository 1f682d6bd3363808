"""Holiday calendars by zone: metropolitan France, Alsace-Moselle's two extra days, overseas."""

from __future__ import annotations

from datetime import date

import pytest

from rdv_spie.territories.holidays import holidays_between
from rdv_spie.territories.models import HolidayZone

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def test_metropole_has_the_eleven_days() -> None:
    days = holidays_between(HolidayZone.METROPOLE, *YEAR)
    assert len(days) == 11
    assert {date(2026, 7, 14), date(2026, 12, 25), date(2026, 5, 25)} <= days
    assert date(2026, 12, 26) not in days


def test_alsace_moselle_adds_good_friday_and_saint_stephen() -> None:
    extra = holidays_between(HolidayZone.ALSACE_MOSELLE, *YEAR) - holidays_between(
        HolidayZone.METROPOLE, *YEAR
    )
    assert extra == {date(2026, 4, 3), date(2026, 12, 26)}


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (HolidayZone.GUYANE, date(2026, 6, 10)),  # abolition of slavery in Guyane
        (HolidayZone.REUNION, date(2026, 12, 20)),  # abolition of slavery in La Réunion
        (HolidayZone.MARTINIQUE, date(2026, 5, 22)),
        (HolidayZone.GUADELOUPE, date(2026, 5, 27)),
    ],
)
def test_overseas_days(zone: HolidayZone, day: date) -> None:
    assert day in holidays_between(zone, *YEAR)
    assert day not in holidays_between(HolidayZone.METROPOLE, *YEAR)


def test_range_is_inclusive_and_spans_years() -> None:
    days = holidays_between("metropole", date(2026, 12, 25), date(2027, 1, 1))
    assert days == {date(2026, 12, 25), date(2027, 1, 1)}
