"""VTIMEZONE with yearly rules: the shape calendar apps expect (RRULE, a single STANDARD without
daylight saving), and offsets that agree with the zone database for every instant of several
years, read back by two parsers that build the zone from the component alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import tzinfo as TzInfo
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from rdv_spie.ical.vtimezone import (
    Observance,
    UnsupportedRule,
    onset_date,
    parse_tz_string,
    posix_tz_string,
    vtimezone,
)

PARIS = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)
ZONES = [
    "Europe/Paris",
    "America/Cayenne",
    "Indian/Reunion",
    "Australia/Sydney",
    "America/Miquelon",
    "America/New_York",
    "Europe/Dublin",  # "negative" daylight saving: winter is the DST part in the TZ string
    "Pacific/Noumea",
    "Asia/Jerusalem",  # changes at 26:00 on the fourth Thursday: the Friday after
    "America/Nuuk",  # changes at -1:00 on the last Sunday: the Saturday before
]


def test_paris_is_two_yearly_rules() -> None:
    assert vtimezone("Europe/Paris") == PARIS


@pytest.mark.parametrize(
    ("tzid", "offset", "name"),
    [("America/Cayenne", "-0300", "-03"), ("Indian/Reunion", "+0400", "+04")],
)
def test_a_zone_without_daylight_saving_is_one_standard(tzid: str, offset: str, name: str) -> None:
    text = vtimezone(tzid)
    assert text == (
        f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:{offset}\r\n"
        f"TZOFFSETTO:{offset}\r\nTZNAME:{name}\r\nDTSTART:19700101T000000\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
    )


def test_sydney_has_summer_in_october() -> None:
    text = vtimezone("Australia/Sydney")
    daylight = text[text.index("BEGIN:DAYLIGHT") : text.index("END:DAYLIGHT")]
    standard = text[text.index("BEGIN:STANDARD") : text.index("END:STANDARD")]
    assert "TZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100" in daylight
    assert "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU" in daylight
    assert "DTSTART:19701004T020000" in daylight
    assert "TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000" in standard
    assert "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU" in standard
    assert "DTSTART:19700405T030000" in standard  # 03:00 daylight time, as the rule says


def test_the_rule_comes_from_the_tzif_footer() -> None:
    assert posix_tz_string("Europe/Paris") == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert posix_tz_string("America/Cayenne") == "<-03>3"


def test_tz_strings() -> None:
    assert parse_tz_string("<+04>-4") == [Observance("STANDARD", "+04", 14400, 14400)]
    assert parse_tz_string("<-03>3<-02>,M3.2.0,M11.1.0") == [
        Observance("DAYLIGHT", "-02", -10800, -7200, 3, 2, 0, 7200),
        Observance("STANDARD", "-03", -7200, -10800, 11, 1, 0, 7200),
    ]
    assert parse_tz_string("IST-5:30")[0].offset_to == 5 * 3600 + 1800
    assert parse_tz_string("IST-2IDT,M3.4.4/26,M10.5.0")[0] == Observance(
        "DAYLIGHT", "IDT", 7200, 10800, 3, 4, 4, 7200, day_shift=1
    )
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29\r\n" in (
        vtimezone("Asia/Jerusalem")
    )
    for unsupported in ("EST5EDT,M2.4.0/30,M11.1.0", "EST5EDT", "X", "EST5EDT,J60,J300"):
        with pytest.raises(UnsupportedRule):
            parse_tz_string(unsupported)


@pytest.mark.parametrize(
    ("year", "month", "week", "weekday", "expected"),
    [
        (2026, 3, 5, 0, date(2026, 3, 29)),  # last Sunday
        (2027, 3, 5, 0, date(2027, 3, 28)),
        (2026, 10, 5, 0, date(2026, 10, 25)),
        (2026, 2, 5, 0, date(2026, 2, 22)),  # February 2026 has four Sundays
        (2026, 3, 2, 0, date(2026, 3, 8)),  # second Sunday (North America)
        (2026, 11, 1, 0, date(2026, 11, 1)),
        (2026, 10, 1, 0, date(2026, 10, 4)),
        (2026, 3, 4, 4, date(2026, 3, 26)),  # fourth Thursday
    ],
)
def test_onset_date(year: int, month: int, week: int, weekday: int, expected: date) -> None:
    assert onset_date(year, month, week, weekday) == expected


def _instants(tzid: str) -> Iterator[datetime]:
    """Every 7 hours over 2025–2031, plus one second either side of each change."""
    zone = ZoneInfo(tzid)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2032, 1, 1, tzinfo=UTC)
    previous = at.astimezone(zone).utcoffset()
    while at < end:
        yield at
        offset = (at + timedelta(hours=7)).astimezone(zone).utcoffset()
        if offset != previous:  # find the change to the second
            low, high = at, at + timedelta(hours=7)
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if middle.astimezone(zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            yield from (low, high, high + timedelta(seconds=1))
            previous = offset
        at += timedelta(hours=7)


def _calendar(tzid: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + vtimezone(tzid)
        + "END:VCALENDAR\r\n"
    )


def _own_zones(tzid: str) -> list[TzInfo]:
    """The zone as two parsers build it from the VTIMEZONE alone, ignoring its name."""
    text = _calendar(tzid)
    from_icalendar = Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    from_vobject = vobject.readOne(text).vtimezone.gettzinfo()
    return [from_icalendar, from_vobject]


@pytest.mark.parametrize("tzid", ZONES)
def test_offsets_agree_with_the_zone_database_for_years(tzid: str) -> None:
    # What a calendar app does with DTSTART;TZID=...: read a wall-clock time in the zone the
    # file describes. The second pass of a repeated hour is written in UTC by the feed, so
    # wall times that mean two instants are left out.
    zone = ZoneInfo(tzid)
    own = _own_zones(tzid)
    checked = 0
    for instant in _instants(tzid):
        local = instant.astimezone(zone)
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            continue
        wall = local.replace(tzinfo=None)
        for parsed in own:
            assert wall.replace(tzinfo=parsed).utcoffset() == local.utcoffset(), (
                tzid,
                wall,
                parsed,
            )
        checked += 1
    assert checked > 8000
