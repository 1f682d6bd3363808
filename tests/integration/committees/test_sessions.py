"""Moving and cancelling one session: SEQUENCE + 1, members who accepted the charter get the
same UID with METHOD:REQUEST then METHOD:CANCEL, a cancelled session's requests go to the next
one (their referents told), and the series feed keeps it as STATUS:CANCELLED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from tests.support.cto import Cto, calendar_of, parsed_instants
from tests.support.smtp_server import SmtpServer

from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner


async def test_move_then_cancel(cto: Cto, jobs: JobContext, smtp: SmtpServer) -> None:
    runner = InProcessRunner(jobs, sweep_seconds=60)
    first, second = (await cto.sessions())[:2]
    a, b = await cto.add_people(2)
    one = (await cto.submit(first["id"], a)).json()
    two = (await cto.submit(first["id"], b, referent=cto.s.referent_ids[1])).json()
    feed = await cto.client.post(
        f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.animator
    )
    assert feed.status_code == 201, feed.text
    feed_path = "/" + feed.json()["url"].split("/", 3)[3]

    # Friday 11 December instead of Thursday 10, 09:00 in Paris.
    denied = await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/move",
        headers=cto.auth(cto.s.referent_ids[0]),
        json={"starts_at": "2026-12-11T08:00:00+00:00"},
    )
    assert denied.status_code == 403
    moved = await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/move",
        headers=cto.animator,
        json={"starts_at": "2026-12-11T08:00:00+00:00", "reason": "Jeudi férié"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["sequence"] == 1 and moved.json()["status"] == "moved"
    assert moved.json()["deadline_at"].startswith("2026-12-08T13:00")  # Tuesday 14:00
    await runner.run_once()
    told = smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in told) == [
        "partenaire0@partenaire.test",
        "partenaire1@partenaire.test",
    ]
    cal = calendar_of(told[0].message)
    event = cal.walk("VEVENT")[0]
    uid = str(event["UID"])
    # SEQUENCE: the session's moves (1) and changes of its count of situations (2 requests).
    assert str(cal["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 1 + 2
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 12, 11, 8, tzinfo=UTC)
    assert "changement" in told[0].message["Subject"] or "change" in told[0].message["Subject"]
    assert (
        "Raison du changement : Jeudi férié" in told[0].message.get_body(("plain",)).get_content()
    )

    smtp.reset()
    cancelled = await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/cancel",
        headers=cto.animator,
        json={"reason": "Salle indisponible"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["sequence"] == 2 and cancelled.json()["status"] == "cancelled"
    await runner.run_once()
    told = smtp.wait_for(4)
    members = [m for m in told if m.rcpt_tos[0].startswith("partenaire")]
    referents = [m for m in told if m.rcpt_tos[0].startswith("referent")]
    assert len(members) == 2 and len(referents) == 2
    cal = calendar_of(members[0].message)
    event = cal.walk("VEVENT")[0]
    assert str(cal["METHOD"]) == "CANCEL" and str(event["UID"]) == uid
    assert "Raison : Salle indisponible" in members[0].message.get_body(("html",)).get_content()
    assert int(event["SEQUENCE"]) == 2 + 4  # moved, cancelled; 2 requests came, then left
    assert all("reportée" in m.message["Subject"] for m in referents)
    assert "annulée" in referents[0].message.get_body(("plain",)).get_content()
    for request in (one, two):
        r = await cto.client.get(f"/api/v1/cto-requests/{request['id']}", headers=cto.animator)
        assert r.json()["session_id"] == second["id"] and r.json()["status"] == "carried_over"

    body = (await cto.client.get(feed_path)).content
    parsed = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    assert str(events[uid]["STATUS"]) == "CANCELLED" and int(events[uid]["SEQUENCE"]) == 6
    following = next(e for u, e in events.items() if second["id"] in u)
    assert str(following["SUMMARY"]) == "CTO Laon — 2 situations"
    # The session's page on the partners' portal, never the API.
    assert f"/agent/partenaire/seances/{second['id']}" == urlsplit(str(following["URL"])).path
    assert "visio.example.org" in str(following["DESCRIPTION"])
    # A cancelled session cannot move; cancelling again changes nothing.
    again = await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/move",
        headers=cto.animator,
        json={"starts_at": "2026-12-12T08:00:00+00:00"},
    )
    assert again.status_code == 409
    twice = await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/cancel", headers=cto.animator
    )
    assert twice.json()["sequence"] == 2


async def test_feeds_show_sessions_to_partners_and_the_territory(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    (person,) = await cto.add_people(1)
    await cto.submit(first["id"], person)
    denied = await cto.client.post(
        f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.auth(cto.partner_ids[0])
    )
    assert denied.status_code == 403
    made = await cto.client.post(
        f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.animator
    )
    path = "/" + made.json()["url"].split("/", 3)[3]
    status = await cto.client.get(
        f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.animator
    )
    assert status.json()["active"] is True and status.json()["kind"] == "cto_series"
    served = await cto.client.get(path)
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(served.content)
    assert str(parsed["X-WR-CALNAME"]) == "CTO Laon"
    summaries = [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")]
    assert summaries[0] == "CTO Laon — 1 situation" and summaries[1] == "CTO Laon — 0 situation"
    etag = served.headers["etag"]
    assert (await cto.client.get(path, headers={"If-None-Match": etag})).status_code == 304
    (other,) = await cto.add_people(1)
    cto.clock.advance(timedelta(minutes=5))
    second = await cto.submit(first["id"], other)
    changed = await cto.client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and b"CTO Laon \xe2\x80\x94 2 situations" in changed.content
    # The count changed: DTSTAMP follows the latest request, SEQUENCE + 1.
    before = icalendar.Calendar.from_ical(served.content).walk("VEVENT")[0]
    after = icalendar.Calendar.from_ical(changed.content).walk("VEVENT")[0]
    assert after.decoded("DTSTAMP") - before.decoded("DTSTAMP") == timedelta(minutes=5)
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1

    async def first_event() -> icalendar.Event:
        body = (await cto.client.get(path)).content
        event: icalendar.Event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
        return event

    # An acknowledgement leaves the count as it is; a withdrawal changes it: SEQUENCE + 1.
    request_id = second.json()["id"]
    acked = await cto.client.post(
        f"/api/v1/cto-requests/{request_id}/acknowledge", headers=cto.animator
    )
    assert acked.status_code == 200, acked.text
    assert int((await first_event())["SEQUENCE"]) == int(after["SEQUENCE"])
    withdrawn = await cto.client.post(
        f"/api/v1/cto-requests/{request_id}/withdraw", headers=cto.auth(cto.s.referent_ids[0])
    )
    assert withdrawn.status_code == 200, withdrawn.text
    event = await first_event()
    assert str(event["SUMMARY"]) == "CTO Laon — 1 situation"
    assert int(event["SEQUENCE"]) == int(after["SEQUENCE"]) + 1

    territory = await cto.client.post(
        f"/api/v1/calendar-feeds/territories/{cto.s.territory_id}", headers=cto.animator
    )
    body = (await cto.client.get("/" + territory.json()["url"].split("/", 3)[3])).content
    names = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert "CTO Laon — 1 situation" in names


async def test_series_feed_instants_across_the_spring_change(cto: Cto) -> None:
    made = await cto.client.post(
        "/api/v1/cto-series",
        headers=cto.animator,
        json={
            "territory_id": str(cto.s.territory_id),
            "organisation_id": str(cto.s.organisation_id),
            "name": "Dimanche",
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
            "starts_on": "2027-03-21",
            "video_url": "https://visio.example.org/dimanche",
        },
    )
    assert made.status_code == 201, made.text
    feed = await cto.client.post(
        f"/api/v1/calendar-feeds/cto-series/{made.json()['id']}", headers=cto.animator
    )
    body = (await cto.client.get("/" + feed.json()["url"].split("/", 3)[3])).content
    parsed = parsed_instants(body)
    assert parsed["icalendar"] == parsed["ical"] == parsed["vobject"]
    starts = sorted(start for _, start, _ in parsed["icalendar"])[:3]
    # 08:30 in Paris: CET before the last Sunday of March, CEST from it.
    assert starts == [
        datetime(2027, 3, 21, 7, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 6, 30, tzinfo=UTC),
        datetime(2027, 4, 4, 6, 30, tzinfo=UTC),
    ]
    assert b"BEGIN:VTIMEZONE" in body and b"TZID:Europe/Paris" in body
