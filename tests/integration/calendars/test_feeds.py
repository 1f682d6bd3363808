"""Calendar feeds on both engines: what an agent's and a territory's feed show (initials only,
no personal data at all), the same instants in three parsers on DST weekends and overseas,
ETag / 304, a change gives a new ETag and SEQUENCE + 1, cancelled events stay, and every
token that does not open a feed gets the same 404."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.logging import configure_logging
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import Appointment, AppointmentAgent, AttendeeRole
from rdv_spie.territories.models import HolidayZone, Place

Client = httpx.AsyncClient
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 2 December, 09:00 in Paris
ME = "/api/v1/calendar-feeds/me"


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def create_feed(client: Client, headers: dict[str, str], path: str = ME) -> str:
    """A new feed link; its path on this server."""
    r = await client.post(path, headers=headers)
    assert r.status_code == 201, r.text
    url: str = r.json()["url"]
    assert r.json()["webcal_url"] == "webcal://" + url.split("://", 1)[1]
    return "/" + url.split("/", 3)[3]


def unfold(body: bytes) -> str:
    return body.decode().replace("\r\n ", "")


async def book(client: Client, s: sc.Scenario, at: datetime, **extra: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": at.isoformat(),
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def add_appointment(
    db: Database,
    clock: FrozenClock,
    s: sc.Scenario,
    starts_at: datetime,
    *,
    agent_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
    minutes: int = 45,
) -> uuid.UUID:
    """An appointment written directly (on a weekend or at night, where no rule opens)."""
    ends_at = starts_at + timedelta(minutes=minutes)
    async with db.unit_of_work(clock=clock) as uow:
        appointment = Appointment(
            territory_id=s.territory_id,
            acting_organisation_id=s.organisation_id,
            appointment_type_id=s.single_type_id,
            place_id=s.place_ids[0],
            person_id=person_id,
            starts_at=starts_at,
            ends_at=ends_at,
            busy_until=ends_at,
            attendees=[
                AppointmentAgent(
                    agent_id=agent_id,
                    role=AttendeeRole.REFERENT,
                    starts_at=starts_at,
                    busy_until=ends_at,
                )
            ],
        )
        uow.session.add(appointment)
        await uow.session.flush()
        return appointment.id


def parsed_instants(body: bytes) -> dict[str, list[tuple[str, datetime, datetime]]]:
    text = body.decode()
    calendar = IcsCalendarStream.calendar_from_ics(text)
    return {
        "icalendar": sorted(
            (str(e["UID"]), e.start.astimezone(UTC), e.end.astimezone(UTC))
            for e in Calendar.from_ical(body).walk("VEVENT")
        ),
        "ical": sorted(
            (e.uid, e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC))  # type: ignore[union-attr]
            for e in calendar.events
        ),
        "vobject": sorted(
            (e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC))
            for e in getattr(vobject.readOne(text), "vevent_list", [])
        ),
    }


# Paris: 2026-10-25 01:00 UTC (back to CET) and 2027-03-28 01:00 UTC (to CEST). T0 is
# 2026-12-01, so the first weekend is in the 92 days back and the second within a year ahead.
PARIS_DST = [
    datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, first pass of the repeated hour
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, second pass
    datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 15, tzinfo=UTC),  # 01:15 CET, ends after the jump
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # 03:00 CEST
    datetime(2027, 3, 28, 9, 0, tzinfo=UTC),
]
OVERSEAS = [
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # New Year's Eve, local or UTC
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    datetime(2027, 7, 14, 3, 0, tzinfo=UTC),
]


@pytest.mark.parametrize(
    ("timezone", "zone", "starts"),
    [
        ("Europe/Paris", HolidayZone.METROPOLE, PARIS_DST),
        ("America/Cayenne", HolidayZone.GUYANE, OVERSEAS),
        ("Indian/Reunion", HolidayZone.REUNION, OVERSEAS),
    ],
)
async def test_every_feed_parses_to_the_same_instants_in_three_parsers(
    client: Client,
    db: Database,
    clock: FrozenClock,
    timezone: str,
    zone: HolidayZone,
    starts: list[datetime],
) -> None:
    s = await sc.build(db, clock, slug="zone", timezone=timezone, holiday_zone=zone)
    referent = s.referent_ids[0]
    ids = [await add_appointment(db, clock, s, at, agent_id=referent) for at in starts]
    expected = sorted(
        (f"appointment-{i}@rdv-spie", at, at + timedelta(minutes=45))
        for i, at in zip(ids, starts, strict=True)
    )
    agent_path = await create_feed(client, s.auth(referent))
    territory_path = await create_feed(
        client, s.auth(), f"/api/v1/calendar-feeds/territories/{s.territory_id}"
    )
    for path in (agent_path, territory_path):
        r = await client.get(path)
        assert r.status_code == 200
        assert f"TZID:{timezone}\r\n".encode() in r.content
        for parser, found in parsed_instants(r.content).items():
            assert found == expected, (parser, path == agent_path)


async def test_etag_and_304(client: Client, s: sc.Scenario) -> None:
    await book(client, s, WED_0900, referent_id=str(s.referent_ids[0]))
    path = await create_feed(client, s.auth(s.referent_ids[0]))
    first = await client.get(path)
    assert first.status_code == 200
    assert b"BEGIN:VEVENT" in first.content
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    assert first.headers["etag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert "private" in first.headers["cache-control"]
    assert "public" not in first.headers["cache-control"]
    again = await client.get(path)
    assert again.content == first.content  # byte-stable between two polls
    for sent in (first.headers["etag"], f'"x", W/{first.headers["etag"]}', "*"):
        r = await client.get(path, headers={"If-None-Match": sent})
        assert r.status_code == 304, sent
        assert r.content == b""
        assert r.headers["etag"] == first.headers["etag"]
    stale = await client.get(path, headers={"If-None-Match": '"something else"'})
    assert stale.status_code == 200 and stale.content == first.content


async def test_a_move_gives_a_new_etag_and_the_next_sequence(
    client: Client, s: sc.Scenario
) -> None:
    booked = await book(client, s, WED_0900, referent_id=str(s.referent_ids[0]))
    path = await create_feed(client, s.auth(s.referent_ids[0]))
    before = await client.get(path)
    assert b"SEQUENCE:0\r\n" in before.content
    assert b"DTSTART;TZID=Europe/Paris:20261202T090000\r\n" in before.content
    r = await client.post(
        f"/api/v1/appointments/{booked['id']}/move",
        headers=s.auth(),
        json={"starts_at": (WED_0900 + timedelta(hours=1)).isoformat()},
    )
    assert r.status_code == 200, r.text
    moved = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert moved.status_code == 200
    assert moved.headers["etag"] != before.headers["etag"]
    assert moved.headers["etag"] == f'"{hashlib.sha256(moved.content).hexdigest()}"'
    (event,) = Calendar.from_ical(moved.content).walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{booked['id']}@rdv-spie"
    assert int(event["SEQUENCE"]) == 1
    assert event.start.astimezone(UTC) == WED_0900 + timedelta(hours=1)


async def test_cancelled_events_stay_as_cancelled(client: Client, s: sc.Scenario) -> None:
    booked = await book(client, s, WED_0900)
    kept = await book(client, s, WED_0900 + timedelta(days=1))
    path = await create_feed(
        client, s.auth(), f"/api/v1/calendar-feeds/territories/{s.territory_id}"
    )
    r = await client.post(f"/api/v1/appointments/{booked['id']}/cancel", headers=s.auth())
    assert r.status_code == 200, r.text
    body = (await client.get(path)).content
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    cancelled = events[f"appointment-{booked['id']}@rdv-spie"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 1
    assert str(cancelled["SUMMARY"]).startswith("Annulé")
    assert str(events[f"appointment-{kept['id']}@rdv-spie"]["STATUS"]) == "CONFIRMED"


CANARY = {
    "first_name": "Zoéquintessence",
    "last_name": "Yggdrasilcanary",
    "email": "canary.mail.7741@example.org",
    "phone": "+33699887741",
    "caf_number": "CAFCANARY7741",
    "france_travail_id": "FTCANARY7741",
    "departement_id": "DEPCANARY7741",
    "postcode": "02741",
}
BIRTH = date(1971, 2, 3)


async def test_canary_no_personal_data_in_the_territory_feed_initials_in_the_agent_feed(
    client: Client, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(territory_id=s.territory_id, birth_on=BIRTH, **CANARY)
        uow.session.add(person)
        await uow.session.flush()
        await sc.follow(uow, s, person.id)
        person_id = person.id
    await book(client, s, WED_0900, person_id=str(person_id), referent_id=str(s.referent_ids[0]))
    markers = [*CANARY.values(), "Zoé", "quintessence", "Yggdrasil", "7741", "1971"]
    markers += [BIRTH.isoformat(), f"{BIRTH:%Y%m%d}", f"{BIRTH:%d/%m/%Y}", str(person_id)]
    agent = unfold((await client.get(await create_feed(client, s.auth(s.referent_ids[0])))).content)
    territory = unfold(
        (
            await client.get(
                await create_feed(
                    client, s.auth(), f"/api/v1/calendar-feeds/territories/{s.territory_id}"
                )
            )
        ).content
    )
    for marker in markers:
        assert marker.lower() not in agent.lower(), marker
        assert marker.lower() not in territory.lower(), marker
    assert "SUMMARY:Premier rendez-vous — Z. Y.\r\n" in agent
    assert "Z. Y." not in territory
    assert "SUMMARY:Premier rendez-vous\r\n" in territory


async def test_a_renamed_person_or_place_changes_the_feed(
    client: Client, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(territory_id=s.territory_id, first_name="Anne", last_name="Bé")
        uow.session.add(person)
        await uow.session.flush()
        await sc.follow(uow, s, person.id)
        person_id = person.id
    await book(client, s, WED_0900, person_id=str(person_id), referent_id=str(s.referent_ids[0]))
    path = await create_feed(client, s.auth(s.referent_ids[0]))
    first = await client.get(path)
    assert b"A. B." in first.content
    clock.advance(timedelta(minutes=1))
    async with db.unit_of_work(clock=clock) as uow:
        (await uow.session.get_one(Person, person_id)).first_name = "Camille"
    second = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and b"C. B." in second.content
    clock.advance(timedelta(minutes=1))
    async with db.unit_of_work(clock=clock) as uow:
        (await uow.session.get_one(Place, s.place_ids[0])).name = "Maison France Services"
    third = await client.get(path, headers={"If-None-Match": second.headers["etag"]})
    assert third.status_code == 200 and b"Maison France Services" in third.content


async def test_unknown_revoked_and_expired_tokens_get_the_same_404(
    client: Client, clock: FrozenClock, s: sc.Scenario
) -> None:
    referent = s.auth(s.referent_ids[0])
    revoked = await create_feed(client, referent)
    rotated = await create_feed(client, referent)  # rotating revokes the first link
    assert (await client.get(rotated)).status_code == 200
    answers = {
        "unknown": await client.get("/feeds/" + "A" * 43 + ".ics"),
        "malformed": await client.get("/feeds/not-a-token.ics"),
        "no suffix": await client.get(rotated.removesuffix(".ics")),
        "rotated out": await client.get(revoked),
    }
    r = await client.delete(ME, headers=referent)
    assert r.status_code == 204
    answers["revoked"] = await client.get(rotated)
    expiring = await create_feed(client, referent)
    clock.advance(timedelta(days=366))
    answers["expired"] = await client.get(expiring)

    def shape(r: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        return r.status_code, r.content, [(k, v) for k, v in r.headers.items() if k != "date"]

    first = shape(answers["unknown"])
    assert first[0] == 404
    for name, answer in answers.items():
        assert shape(answer) == first, name


async def test_the_token_never_reaches_the_logs(
    client: Client,
    s: sc.Scenario,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # structlog binds stderr when configured: bind it to this test's capture, or the app's
    # lines would go past it and the negative assertion below would prove nothing.
    configure_logging(level="DEBUG")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the test's own client, not the app
    path = await create_feed(client, s.auth(s.referent_ids[0]))
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path + "x")).status_code == 404
    assert (await client.get(path.replace(".ics", "/x.ics"))).status_code == 404
    out, err = capfd.readouterr()
    # The capture saw the app log each feed request (masked), so it would see a token too.
    feed_lines = [line for line in err.splitlines() if "request" in line and "/feeds/" in line]
    assert [re.search(r"path=/feeds/\S* status=(\d+)", line)[1] for line in feed_lines] == [
        "200",
        "404",
        "404",
    ], err
    for text in (out, err, caplog.text):
        assert token not in text
