"""The appointment iCalendar: parses back, keeps the instant exact on daylight-saving weekends
(with the zone database and with the file's own VTIMEZONE), CANCEL keeps the UID, same
arguments give the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from rdv_spie.ical.ics import PRODID, appointment_calendar

ZONES = ["Europe/Paris", "America/Cayenne", "Indian/Reunion"]
STAMP = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def build(**overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "method": "REQUEST",
        "uid": "appointment-0b7e8f4c@rdv-spie",
        "sequence": 0,
        "starts_at": datetime(2026, 12, 8, 13, 30, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 8, 14, 15, tzinfo=UTC),
        "tzid": "Europe/Paris",
        "summary": "Premier rendez-vous d'orientation",
        "location": "Maison départementale des solidarités, 12 rue Carnot, 02000 Laon",
        "description": "Apportez une pièce d'identité.\nÀ bientôt.",
        "organizer_email": "rdv@aisne.fr",
        "organizer_name": "Département de l'Aisne",
        "attendee_email": "marie.dupont@example.org",
        "dtstamp": STAMP,
        "url": "https://rdv.aisne.fr/i/AbCdEf0123456789abcdEF",
    }
    return appointment_calendar(**(arguments | overrides))


def parse(body: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_request_carries_every_field() -> None:
    body = build()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    calendar, event = parse(body)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "appointment-0b7e8f4c@rdv-spie"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTAMP"].dt == STAMP
    assert b"DTSTAMP:20261201T080000Z\r\n" in body
    assert b"DTSTART;TZID=Europe/Paris:20261208T143000\r\n" in body
    assert b"DTEND;TZID=Europe/Paris:20261208T151500\r\n" in body
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Premier rendez-vous d'orientation"
    assert str(event["LOCATION"]).startswith("Maison départementale des solidarités, 12")
    assert str(event["DESCRIPTION"]) == "Apportez une pièce d'identité.\nÀ bientôt."
    assert str(event["URL"]) == "https://rdv.aisne.fr/i/AbCdEf0123456789abcdEF"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:rdv@aisne.fr"
    assert organizer.params["CN"] == "Département de l'Aisne"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:marie.dupont@example.org"
    assert attendee.params["RSVP"] == "FALSE"


def test_optional_fields_are_left_out() -> None:
    body = build(attendee_email=None, location=None, description=None, url=None)
    _, event = parse(body)
    for name in ("ATTENDEE", "LOCATION", "DESCRIPTION", "URL"):
        assert name not in event


def test_cancel_keeps_the_uid_and_marks_the_event_cancelled() -> None:
    request = parse(build(sequence=0))[1]
    calendar, cancel = parse(build(method="CANCEL", sequence=1))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert str(cancel["UID"]) == str(request["UID"])
    assert int(cancel["SEQUENCE"]) == 1
    assert cancel.start == request.start


def test_same_arguments_give_the_same_bytes() -> None:
    assert build() == build()
    assert build(method="CANCEL", sequence=3) == build(method="CANCEL", sequence=3)
    assert build(sequence=1) != build(sequence=2)


@pytest.mark.parametrize("tzid", ZONES)
def test_vtimezone_present_for_the_tzid(tzid: str) -> None:
    body = build(tzid=tzid)
    calendar, event = parse(body)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [tzid]
    assert calendar.get_missing_tzids() == set()
    assert event["DTSTART"].params["TZID"] == tzid
    assert body.index(b"BEGIN:VTIMEZONE") < body.index(b"BEGIN:VEVENT")


# Paris changes clocks on 2026-10-25 (03:00 CEST -> 02:00 CET, 01:00 UTC) and on 2027-03-28
# (02:00 CET -> 03:00 CEST, 01:00 UTC).
DST_WEEKEND = [
    datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, first pass
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, second pass
    datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    datetime(2027, 3, 27, 8, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 59, tzinfo=UTC),  # 01:59 CET
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # 03:00 CEST
    datetime(2027, 3, 28, 7, 0, tzinfo=UTC),
    datetime(2027, 3, 29, 7, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("starts_at", DST_WEEKEND, ids=lambda d: d.isoformat())
def test_instants_survive_the_paris_dst_weekends(starts_at: datetime) -> None:
    ends_at = starts_at + timedelta(minutes=45)
    body = build(starts_at=starts_at, ends_at=ends_at)
    if starts_at in (DST_WEEKEND[1], DST_WEEKEND[2]):  # either pass of the repeated hour
        assert f"DTSTART:{starts_at:%Y%m%dT%H%M%S}Z".encode() in body
    _, event = parse(body)
    assert event.start.astimezone(UTC) == starts_at
    assert event.end.astimezone(UTC) == ends_at


@given(
    starts_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=5, max_value=240),
    tzid=st.sampled_from(ZONES),
)
def test_any_instant_parses_back_exactly(starts_at: datetime, minutes: int, tzid: str) -> None:
    starts_at = starts_at.replace(second=0, microsecond=0)
    ends_at = starts_at + timedelta(minutes=minutes)
    _, event = parse(build(starts_at=starts_at, ends_at=ends_at, tzid=tzid))
    assert event.start.astimezone(UTC) == starts_at
    assert event.end.astimezone(UTC) == ends_at


@pytest.mark.parametrize("tzid", ZONES)
@pytest.mark.parametrize(
    "day",
    [datetime(2026, 10, d) for d in (24, 25, 26)] + [datetime(2027, 3, d) for d in (27, 28, 29)],
    ids=lambda d: d.date().isoformat(),
)
def test_the_files_own_vtimezone_agrees_with_the_zone_database(tzid: str, day: datetime) -> None:
    # A calendar app may ignore the TZID name and use the VTIMEZONE rules alone.
    zone = ZoneInfo(tzid)
    for hour in range(7, 21):
        local = day.replace(hour=hour, tzinfo=zone)
        calendar, event = parse(
            build(starts_at=local, ends_at=local + timedelta(minutes=30), tzid=tzid)
        )
        own = calendar.walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
        wall = event["DTSTART"].dt.replace(tzinfo=None)
        assert wall.replace(tzinfo=own).utcoffset() == local.utcoffset(), (tzid, local)


def test_an_appointment_across_new_year_keeps_its_instants() -> None:
    starts_at = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    body = build(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))
    calendar, event = parse(body)
    assert event.end.astimezone(UTC) == starts_at + timedelta(hours=1)
    # Yearly rules, not dated onsets: the zone is right whatever the year.
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n" in body
    own = calendar.walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert event["DTEND"].dt.replace(tzinfo=None).replace(tzinfo=own).utcoffset() == timedelta(
        hours=1
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"starts_at": datetime(2026, 12, 8, 14, 30)}, "timezone-aware"),
        ({"dtstamp": datetime(2026, 12, 1, 8, 0)}, "timezone-aware"),
        ({"ends_at": datetime(2026, 12, 8, 13, 30, tzinfo=UTC)}, "after"),
        ({"tzid": "Europe/Atlantis"}, "unknown IANA time zone"),
        ({"sequence": -1}, "negative"),
        ({"method": "PUBLISH"}, "REQUEST or CANCEL"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**overrides)
