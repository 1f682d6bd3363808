"""The feed renderer: the calendar-level properties subscribers rely on, one VTIMEZONE per zone
used, escaping and folding, byte-stable output, and the same UTC instants read back by three
independent parsers (icalendar, ical, vobject) on daylight-saving weekends and in the overseas
zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from rdv_spie.calendars.feed import FeedEvent, render_feed

STAMP = datetime(2026, 11, 30, 17, 5, 12, tzinfo=UTC)
ZONES = ["Europe/Paris", "America/Cayenne", "Indian/Reunion"]


def event(at: datetime, **overrides: Any) -> FeedEvent:
    starts_at = overrides.pop("starts_at", at)
    fields: dict[str, Any] = {
        "uid": f"appointment-{at:%Y%m%d%H%M}@rdv-spie",
        "sequence": 0,
        "starts_at": starts_at,
        "ends_at": at + timedelta(minutes=45),
        "changed_at": STAMP,
        "tzid": "Europe/Paris",
        "summary": "Premier rendez-vous — M. D.",
    }
    return FeedEvent(**(fields | overrides))


def instants(body: bytes) -> dict[str, list[tuple[str, datetime, datetime]]]:
    """(uid, start, end) in UTC per parser."""
    text = body.decode()
    by_icalendar = [
        (str(e["UID"]), e.start.astimezone(UTC), e.end.astimezone(UTC))
        for e in Calendar.from_ical(body).walk("VEVENT")
    ]
    calendar = IcsCalendarStream.calendar_from_ics(text)
    by_ical = [
        (e.uid, e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC))  # type: ignore[union-attr]
        for e in calendar.events
    ]
    parsed = vobject.readOne(text)
    by_vobject = [
        (e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC))
        for e in getattr(parsed, "vevent_list", [])
    ]
    return {"icalendar": by_icalendar, "ical": by_ical, "vobject": by_vobject}


def assert_parsers_agree(body: bytes, events: list[FeedEvent]) -> None:
    expected = [(e.uid, e.starts_at.astimezone(UTC), e.ends_at.astimezone(UTC)) for e in events]
    for parser, found in instants(body).items():
        assert sorted(found) == sorted(expected), parser


def test_calendar_properties() -> None:
    body = render_feed(name="Rendez-vous — Ana Lima", tzid="Europe/Paris", events=[])
    lines = body.decode().split("\r\n")
    assert lines[:9] == [
        "BEGIN:VCALENDAR",
        "PRODID:-//rdv-spie//rendez-vous SPIE//FR",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:Rendez-vous — Ana Lima",
        "X-WR-CALNAME:Rendez-vous — Ana Lima",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    assert body.endswith(b"END:VCALENDAR\r\n")
    # An empty feed still holds a component (RFC 5545 needs one) and parses everywhere.
    assert [tz["TZID"] for tz in Calendar.from_ical(body).walk("VTIMEZONE")] == ["Europe/Paris"]
    assert all(found == [] for found in instants(body).values())


def test_event_properties_and_cancelled_events() -> None:
    start = datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
    body = render_feed(
        name="x",
        tzid="Europe/Paris",
        events=[
            event(
                start,
                sequence=3,
                status="CANCELLED",
                location="Lieu 0, 0 rue de l'Exemple, 02000 Laon",
                description="Premier rendez-vous\nStatut : annulé",
                url="https://rdv.example.org/api/v1/appointments/1",
            )
        ],
    )
    assert (
        b"BEGIN:VEVENT\r\nUID:appointment-202612081330@rdv-spie\r\nSEQUENCE:3\r\n"
        b"DTSTAMP:20261130T170512Z\r\nLAST-MODIFIED:20261130T170512Z\r\n"
        b"DTSTART;TZID=Europe/Paris:20261208T143000\r\n"
        b"DTEND;TZID=Europe/Paris:20261208T151500\r\n" in body
    )
    (parsed,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(parsed["STATUS"]) == "CANCELLED"
    assert str(parsed["TRANSP"]) == "TRANSPARENT"
    assert str(parsed["LOCATION"]) == "Lieu 0, 0 rue de l'Exemple, 02000 Laon"
    assert str(parsed["DESCRIPTION"]) == "Premier rendez-vous\nStatut : annulé"
    assert str(parsed["URL"]) == "https://rdv.example.org/api/v1/appointments/1"


def test_same_events_same_bytes_and_one_vtimezone_per_zone() -> None:
    start = datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
    events = [event(start + timedelta(days=i), tzid=ZONES[i % 3]) for i in range(9)]
    body = render_feed(name="x", tzid="Europe/Paris", events=events)
    assert body == render_feed(name="x", tzid="Europe/Paris", events=list(events))
    zones = [str(tz["TZID"]) for tz in Calendar.from_ical(body).walk("VTIMEZONE")]
    assert zones == sorted(ZONES)
    assert Calendar.from_ical(body).get_missing_tzids() == set()
    assert body.count(b"RDATE") == 0


def test_text_is_escaped_and_long_lines_folded() -> None:
    tricky = "Bilan; suite, fin\\ 1\nligne 2\r\nligne 3\x07 " + "é" * 60 + "€" * 30
    body = render_feed(name=tricky, tzid="Europe/Paris", events=[event(STAMP, summary=tricky)])
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # never a UTF-8 character cut in two
    (parsed,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == tricky.replace("\r\n", "\n").replace("\x07", "")
    assert str(vobject.readOne(body.decode()).vevent.summary.value) == str(parsed["SUMMARY"])


# Paris changes clocks on 2026-10-25 (01:00 UTC, 03:00 CEST -> 02:00 CET) and on 2027-03-28
# (01:00 UTC, 02:00 CET -> 03:00 CEST).
DST_WEEKENDS = [
    datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 15, tzinfo=UTC),  # 02:15 CEST, the first pass
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # 02:00 CET, the second pass
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    datetime(2027, 3, 27, 23, 30, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 01:30 CET, ends in CEST
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # 03:00 CEST
    datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("tzid", ZONES)
def test_three_parsers_agree_on_dst_weekends(tzid: str) -> None:
    events = [event(at, tzid=tzid) for at in DST_WEEKENDS]
    assert_parsers_agree(render_feed(name="x", tzid=tzid, events=events), events)


def test_both_passes_of_the_repeated_hour_are_written_in_utc() -> None:
    """RFC 5545 reads a TZID wall-clock time in the repeated hour as the first pass, Mozilla's
    ical.js (Thunderbird) as the second: only UTC reads the same everywhere."""
    body = render_feed(name="x", tzid="Europe/Paris", events=[event(DST_WEEKENDS[4])])
    assert b"DTSTART:20261025T013000Z\r\n" in body  # 02:30 CET, the second pass
    assert b"DTEND;TZID=Europe/Paris:20261025T031500\r\n" in body
    first = render_feed(name="x", tzid="Europe/Paris", events=[event(DST_WEEKENDS[1])])
    assert b"DTSTART:20261025T001500Z\r\n" in first  # 02:15 CEST, the first pass
    assert b"DTSTART;TZID=" not in first
    outside = render_feed(name="x", tzid="Europe/Paris", events=[event(DST_WEEKENDS[6])])
    assert b"DTSTART;TZID=Europe/Paris:20261025T100000\r\n" in outside


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(
        st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=12,
        unique=True,
    ),
    zones=st.lists(st.sampled_from(ZONES), min_size=12, max_size=12),
    minutes=st.integers(min_value=5, max_value=600),
)
def test_three_parsers_agree_on_any_instants(
    starts: list[datetime], zones: list[str], minutes: int
) -> None:
    events = [
        event(
            at.replace(second=0, microsecond=0),
            uid=f"e{i}@rdv-spie",
            tzid=zones[i],
            ends_at=at.replace(second=0, microsecond=0) + timedelta(minutes=minutes),
        )
        for i, at in enumerate(starts)
    ]
    assert_parsers_agree(render_feed(name="x", tzid="Europe/Paris", events=events), events)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": datetime(2026, 12, 8, 13, 30, tzinfo=UTC)}, "after"),
        ({"starts_at": datetime(2026, 12, 8, 13, 30)}, "timezone-aware"),
        ({"changed_at": datetime(2026, 12, 8, 13, 30)}, "timezone-aware"),
    ],
)
def test_bad_events_are_refused(overrides: dict[str, Any], message: str) -> None:
    start = datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
    bad = event(start, **({"ends_at": start + timedelta(hours=1)} | overrides))
    with pytest.raises(ValueError, match=message):
        render_feed(name="x", tzid="Europe/Paris", events=[bad])
