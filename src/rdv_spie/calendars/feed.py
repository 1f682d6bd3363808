"""Feed renderer: a subscribed calendar (RFC 5545, METHOD:PUBLISH) as bytes, built as text.

Owns the shape of what calendar apps poll: calendar name, refresh hints (REFRESH-INTERVAL,
RFC 7986, and X-PUBLISHED-TTL for Outlook), one VTIMEZONE with yearly rules per TZID used
(``ical/vtimezone.py``), and one VEVENT per event with its stable UID, its row's SEQUENCE, DTSTAMP
and LAST-MODIFIED from the row's last change, and STATUS:CANCELLED kept for cancelled events so
subscribers remove them instead of guessing.

Pure: no clock, no database; the same events give the same bytes, which is what makes the ETag
stable between two polls. Written as text rather than through icalendar's component API, which
takes about a second for 2,000 events. Must never decide what an event says nor see a person:
the caller (``content.py``) strips personal data before building ``FeedEvent``s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from rdv_spie.ical.ics import PRODID
from rdv_spie.ical.vtimezone import vtimezone
from rdv_spie.localtime import repeated

REFRESH = "PT1H"

Status = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]

# RFC 5545 §3.3.11: other control characters than tab are not allowed in TEXT at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event as a subscriber sees it; every instant tz-aware."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    changed_at: datetime  # the row's last change: DTSTAMP and LAST-MODIFIED
    tzid: str
    summary: str
    status: Status = "CONFIRMED"
    location: str | None = None
    description: str | None = None
    url: str | None = None


def render_feed(
    *,
    name: str,
    tzid: str,
    events: Iterable[FeedEvent],
    description: str | None = None,
    refresh: str = REFRESH,
) -> bytes:
    """A VCALENDAR to publish; ``tzid`` is the calendar's own zone (always given a VTIMEZONE,
    so an empty feed is still a valid calendar)."""
    body: list[str] = []
    zones: dict[str, ZoneInfo] = {tzid: ZoneInfo(tzid)}
    # Summaries and places repeat across events: escape and fold each distinct one once.
    texts: dict[str, str] = {}
    for e in events:
        zone = zones.get(e.tzid)
        if zone is None:
            zone = zones[e.tzid] = ZoneInfo(e.tzid)
        if e.starts_at.utcoffset() is None or e.ends_at.utcoffset() is None:
            raise ValueError(f"{e.uid}: instants must be timezone-aware")
        if e.ends_at <= e.starts_at:
            raise ValueError(f"{e.uid}: ends_at must be after starts_at")
        stamp = _utc(e.changed_at)
        summary = texts.get(e.summary)
        if summary is None:
            summary = texts[e.summary] = _fold(f"SUMMARY:{_text(e.summary)}")
        body += [
            "BEGIN:VEVENT",
            f"UID:{_text(e.uid)}",
            f"SEQUENCE:{e.sequence}",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{stamp}",
            _when("DTSTART", e.starts_at, e.tzid, zone),
            _when("DTEND", e.ends_at, e.tzid, zone),
            summary,
            f"STATUS:{e.status}",
            "TRANSP:TRANSPARENT" if e.status == "CANCELLED" else "TRANSP:OPAQUE",
        ]
        if e.location:
            location = texts.get("\0" + e.location)
            if location is None:
                location = _fold(f"LOCATION:{_text(e.location)}")
                texts["\0" + e.location] = location
            body.append(location)
        if e.description:
            body.append(_fold(f"DESCRIPTION:{_text(e.description)}"))
        if e.url:
            body.append(_fold(f"URL:{e.url}"))
        body.append("END:VEVENT")
    head = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        _fold(f"NAME:{_text(name)}"),
        _fold(f"X-WR-CALNAME:{_text(name)}"),
    ]
    if description:
        head += [
            _fold(f"DESCRIPTION:{_text(description)}"),
            _fold(f"X-WR-CALDESC:{_text(description)}"),
        ]
    head += [
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}",
        f"X-PUBLISHED-TTL:{refresh}",
    ]
    timezones = "".join(vtimezone(z) for z in sorted(zones))
    text = "\r\n".join(head) + "\r\n" + timezones + "\r\n".join([*body, "END:VCALENDAR", ""])
    return text.encode()


def _text(value: str) -> str:
    # Backslash, semicolon and comma are escaped, a newline becomes \n (RFC 5545 §3.3.11).
    # Chained replace() is several times faster than str.translate here.
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return _CONTROL.sub("", value)


def _utc(instant: datetime) -> str:
    if instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _when(prop: str, instant: datetime, tzid: str, zone: ZoneInfo) -> str:
    if instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    local = instant.astimezone(zone)
    # A wall-clock time in the repeated hour (autumn) is ambiguous: RFC 5545 §3.3.5 says the
    # first pass, but clients differ (Mozilla's ical.js, in Thunderbird, reads the second), so
    # both passes are written in UTC, which every client reads as the same instant.
    if repeated(local):
        return f"{prop}:{_utc(instant)}"
    return f"{prop};TZID={tzid}:{local:%Y%m%dT%H%M%S}"


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on lines starting with a space (RFC 5545 §3.1),
    never cutting a UTF-8 character in two."""
    if len(line) <= 18:  # 18 characters are at most 72 octets
        return line
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[bytes] = []
    start, limit = 0, 75
    while len(raw) - start > limit:
        end = start + limit
        while raw[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, 74  # the leading space counts
    parts.append(raw[start:])
    return b"\r\n ".join(parts).decode()
