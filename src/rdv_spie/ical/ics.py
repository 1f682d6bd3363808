"""iCalendar builder: one appointment as an RFC 5545 / RFC 5546 (iTIP) calendar, as bytes.

Owns the shape of the files that go with confirmation and cancellation e-mails: METHOD
REQUEST or CANCEL, one VEVENT with a stable UID and a growing SEQUENCE, local times with a
TZID and the matching VTIMEZONE, so a calendar app shows the right wall-clock time even on a
daylight-saving weekend.

Pure: no I/O (the VTIMEZONE comes from vtimezone.py, which reads the zone database once per
zone), no clock (DTSTAMP comes from the caller), no database. The same arguments always
give the same bytes, so a resent e-mail carries the same file. Must never decide what an event
says (the caller passes summary, location and description) nor put a person's data in a file
meant for partners (that is the feeds' job to strip before calling).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vCalAddress

from rdv_spie.ical.event import CalendarEvent
from rdv_spie.ical.vtimezone import vtimezone
from rdv_spie.localtime import repeated

PRODID = "-//rdv-spie//rendez-vous SPIE//FR"

Method = Literal["REQUEST", "CANCEL"]


def appointment_calendar(
    *,
    method: Method,
    uid: str,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    tzid: str,
    summary: str,
    location: str | None,
    description: str | None,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str | None,
    dtstamp: datetime,
    url: str | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT and its VTIMEZONE; CANCEL marks the event CANCELLED."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"method must be REQUEST or CANCEL, not {method!r}")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at), ("dtstamp", dtstamp)):
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    zone = _zone(tzid)
    local_start = starts_at.astimezone(zone)
    local_end = ends_at.astimezone(zone)

    event = Event()
    event.add("UID", uid)
    event.add("SEQUENCE", sequence)
    event.add("DTSTAMP", dtstamp.astimezone(UTC))
    event.add("DTSTART", _wall_clock(local_start))
    event.add("DTEND", _wall_clock(local_end))
    event.add("SUMMARY", summary)
    if location:
        event.add("LOCATION", location)
    if description:
        event.add("DESCRIPTION", description)
    if url:
        event.add("URL", url)
    event.add("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["CN"] = organizer_name
    event.add("ORGANIZER", organizer)
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        # The booking is already made: calendar apps must not ask for a reply.
        attendee.params["RSVP"] = "FALSE"
        event.add("ATTENDEE", attendee)

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    calendar.add_component(_vtimezone(tzid))
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _zone(tzid: str) -> ZoneInfo:
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {tzid!r}") from exc


def _wall_clock(local: datetime) -> datetime:
    # A wall-clock time in the repeated hour (autumn) is ambiguous: RFC 5545 §3.3.5 says the
    # first pass, but clients differ (Mozilla's ical.js, in Thunderbird, reads the second), so
    # both passes are written in UTC, which every client reads as the same instant.
    if repeated(local):
        return local.astimezone(UTC)
    return local


@lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> Timezone:
    # The same yearly-rule VTIMEZONE as the feeds (vtimezone.py): icalendar's own
    # Timezone.from_tzid writes each onset in the offset after the change, where RFC 5545
    # §3.6.5 wants the one before it. Never mutated once built, so sharing it is safe.
    component = Timezone.from_ical(vtimezone(tzid))
    assert isinstance(component, Timezone)
    return component


def event_calendar(
    event: CalendarEvent,
    *,
    method: Method,
    tzid: str,
    organizer_email: str,
    organizer_name: str,
    description: str | None = None,
    url: str | None = None,
) -> bytes:
    """The calendar of one event (see ``appointment_calendar``): every .ics the service sends
    or offers is built here from a ``CalendarEvent``."""
    return appointment_calendar(
        method=method,
        uid=event.uid,
        sequence=event.sequence,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        tzid=tzid,
        summary=event.summary,
        location=event.location,
        description=description,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
        attendee_email=None,
        dtstamp=event.changed_at.astimezone(UTC),
        url=url,
    )
