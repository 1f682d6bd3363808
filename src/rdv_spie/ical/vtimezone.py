"""VTIMEZONE components with yearly rules, derived from the zone database's current rule.

A TZif file (RFC 8536) ends with a POSIX TZ string that states the rule the zone follows from
its last listed transition on, e.g. ``CET-1CEST,M3.5.0,M10.5.0/3`` for Europe/Paris or
``<-03>3`` for America/Cayenne. That rule becomes one STANDARD and one DAYLIGHT observance with
``RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..`` (or a single STANDARD for a zone without daylight
saving), the shape calendar apps write themselves, instead of a list of RDATEs that ends.

Only the zone's current rule is written: the component is right from the zone's last rule change
on (2000 or earlier for the French territories), which covers every event a feed carries. A rule
this module cannot express as a yearly RRULE (Julian days, a change moved into another month)
falls back to icalendar's dated observances for the years asked; none of the French zones does.
A change time past midnight (Asia/Jerusalem's ``M3.4.4/26``: the Friday after the fourth
Thursday, 02:00) becomes ``BYDAY=FR;BYMONTHDAY=23,...,29``.

Reads the zone database once per zone (cached), like ``zoneinfo`` itself; no other I/O. The
same zone always gives the same text, so a feed's bytes depend only on its events.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from icalendar import Timezone

_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX day numbers: 0 = Sunday
_BASE_YEAR = 1970  # observance onsets are written in this year, as most calendar apps do
_NAME = r"(?:<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?"
_TZ_STRING = re.compile(
    rf"^(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?"
    rf"(?:,(?P<start>[^,]+),(?P<end>[^,]+))?)?$"
)
_RULE = re.compile(
    rf"^M(?P<month>\d{{1,2}})\.(?P<week>[1-5])\.(?P<day>[0-6])(?:/(?P<time>{_OFFSET}))?$"
)


class UnsupportedRule(ValueError):
    """The zone's rule has no plain yearly RRULE form (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Observance:
    """One STANDARD or DAYLIGHT part: offsets in seconds east of UTC, the yearly rule."""

    kind: str  # "STANDARD" or "DAYLIGHT"
    name: str
    offset_from: int
    offset_to: int
    month: int | None = None  # None: a zone without daylight saving (no RRULE)
    week: int = 0  # 1-4, or 5 = the last one of the month
    weekday: int = 0  # POSIX: 0 = Sunday
    seconds: int = 0  # local time of the change, in the offset in force before it
    day_shift: int = 0  # RFC 8536 allows times past 24:00 or before 00:00: whole days moved


def vtimezone(tzid: str, *, fallback_years: tuple[int, int] = (2020, 2040)) -> str:
    """The VTIMEZONE of an IANA zone as CRLF-terminated lines (ready to join into a file)."""
    return _vtimezone(tzid, fallback_years)


@lru_cache(maxsize=128)
def _vtimezone(tzid: str, fallback_years: tuple[int, int]) -> str:
    try:
        observances = parse_tz_string(posix_tz_string(tzid))
    except UnsupportedRule:
        first, last = fallback_years
        component = Timezone.from_tzid(
            tzid, first_date=date(first, 1, 1), last_date=date(last, 1, 1)
        )
        text: str = component.to_ical().decode()
        return text
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    for o in observances:
        lines += [
            f"BEGIN:{o.kind}",
            f"TZOFFSETFROM:{_offset(o.offset_from)}",
            f"TZOFFSETTO:{_offset(o.offset_to)}",
            f"TZNAME:{o.name}",
        ]
        if o.month is None:
            lines.append(f"DTSTART:{_BASE_YEAR}0101T000000")
        else:
            onset = onset_date(_BASE_YEAR, o.month, o.week, o.weekday)
            onset += timedelta(days=o.day_shift)
            hours, rest = divmod(o.seconds, 3600)
            minutes, seconds = divmod(rest, 60)
            lines.append(f"DTSTART:{onset:%Y%m%d}T{hours:02d}{minutes:02d}{seconds:02d}")
            lines.append(f"RRULE:FREQ=YEARLY;BYMONTH={o.month};{_by_day(o)}")
        lines.append(f"END:{o.kind}")
    lines.append("END:VTIMEZONE")
    return "\r\n".join(lines) + "\r\n"


def _by_day(o: Observance) -> str:
    nth = -1 if o.week == 5 else o.week
    if not o.day_shift:
        return f"BYDAY={nth}{_DAYS[o.weekday]}"
    # "The Thursday of the fourth week, at 26:00" is the Friday among the 23rd-29th.
    first = -7 if o.week == 5 else (o.week - 1) * 7 + 1
    days = ",".join(str(first + o.day_shift + i) for i in range(7))
    return f"BYDAY={_DAYS[(o.weekday + o.day_shift) % 7]};BYMONTHDAY={days}"


def posix_tz_string(tzid: str) -> str:
    """The POSIX TZ string at the end of the zone's TZif file (version 2 or later)."""
    zoneinfo.ZoneInfo(tzid)  # validates the key (no path tricks) and that the zone exists
    data = _tzif_bytes(tzid)
    if not data.startswith(b"TZif") or data[4:5] not in (b"2", b"3", b"4"):
        raise UnsupportedRule(f"{tzid}: a TZif file without a footer")
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return footer.decode("ascii")


def _tzif_bytes(tzid: str) -> bytes:
    # The same search order as zoneinfo: the system's TZPATH, then the tzdata package.
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, tzid)
        if os.path.isfile(path):
            with open(path, "rb") as file:
                return file.read()
    try:
        resource = importlib.resources.files("tzdata").joinpath("zoneinfo", *tzid.split("/"))
        return resource.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise zoneinfo.ZoneInfoNotFoundError(tzid) from exc


def parse_tz_string(tz: str) -> list[Observance]:
    """Observances from a POSIX TZ string (RFC 8536 §3.3); UnsupportedRule when not yearly."""
    found = _TZ_STRING.match(tz)
    if found is None:
        raise UnsupportedRule(f"cannot read the TZ string {tz!r}")
    std_name = found["std"].strip("<>")
    std = -_seconds(found["std_offset"])  # POSIX offsets count west of UTC
    if found["dst"] is None:
        return [Observance("STANDARD", std_name, std, std)]
    dst_name = found["dst"].strip("<>")
    dst = -_seconds(found["dst_offset"]) if found["dst_offset"] else std + 3600
    if found["start"] is None:
        raise UnsupportedRule(f"{tz!r}: daylight saving without rules")
    to_dst = _rule(found["start"], tz)
    to_std = _rule(found["end"], tz)
    return [
        Observance("DAYLIGHT", dst_name, std, dst, *to_dst),
        Observance("STANDARD", std_name, dst, std, *to_std),
    ]


def _rule(text: str, tz: str) -> tuple[int, int, int, int, int]:
    found = _RULE.match(text)
    if found is None:
        raise UnsupportedRule(f"{tz!r}: rule {text!r} is not of the Mm.w.d form")
    seconds = _seconds(found["time"]) if found["time"] else 2 * 3600
    shift, seconds = divmod(seconds, 24 * 3600)
    month, week = int(found["month"]), int(found["week"])
    if not 1 <= month <= 12:
        raise UnsupportedRule(f"{tz!r}: month {month}")
    shortest = 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31
    low = (-7 if week == 5 else (week - 1) * 7 + 1) + shift
    if shift and not (
        (-shortest <= low and low + 6 <= -1) if week == 5 else (low >= 1 and low + 6 <= shortest)
    ):
        raise UnsupportedRule(f"{tz!r}: rule {text!r} moves the change into another month")
    return month, week, int(found["day"]), seconds, shift


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def onset_date(year: int, month: int, week: int, weekday: int) -> date:
    """The day of ``Mm.w.d`` in a year: the w-th (5 = last) POSIX weekday d of the month."""
    first = date(year, month, 1)
    python_weekday = (weekday - 1) % 7  # date.weekday(): 0 = Monday
    day = first + timedelta(days=(python_weekday - first.weekday()) % 7 + 7 * (week - 1))
    while day.month != month:  # week 5 means the last one, which may be the fourth
        day -= timedelta(days=7)
    return day


def _offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")
