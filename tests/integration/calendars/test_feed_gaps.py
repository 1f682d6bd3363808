"""Feed gaps (issue 18 item 5), on both engines: an appointment moved to another referent stays
in the old referent's feed as cancelled (same UID, higher SEQUENCE) instead of vanishing;
HEAD answers like GET without a body; events link to the back office's agenda, not the API."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from icalendar import Calendar
from tests.integration.calendars.test_feeds import WED_0900, book, create_feed
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

Client = httpx.AsyncClient


def _events(body: bytes) -> dict[str, Calendar]:
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


async def test_a_move_to_another_referent_leaves_a_cancelled_event(
    client: Client, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, referents=2)
    first, second = s.referent_ids
    moved = await book(client, s, WED_0900, referent_id=str(first))
    await book(client, s, WED_0900 + timedelta(hours=1), referent_id=str(first))  # first is busy
    old_feed = await create_feed(client, s.auth(first))
    new_feed = await create_feed(client, s.auth(second))
    before = await client.get(old_feed)
    uid = f"appointment-{moved['id']}@rdv-spie"
    assert str(_events(before.content)[uid]["STATUS"]) == "CONFIRMED"

    # Moved to 10:00, when only the second referent is free.
    r = await client.post(
        f"/api/v1/appointments/{moved['id']}/move",
        headers=s.auth(),
        json={"starts_at": (WED_0900 + timedelta(hours=1)).isoformat()},
    )
    assert r.status_code == 200, r.text
    after = await client.get(old_feed, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    ghost = _events(after.content)[uid]
    assert str(ghost["STATUS"]) == "CANCELLED"
    assert int(ghost["SEQUENCE"]) > int(_events(before.content)[uid]["SEQUENCE"])
    assert ghost.start == _events(before.content)[uid].start  # at the time the agent had
    assert str(ghost["SUMMARY"]).startswith("Annulé")
    taken = _events((await client.get(new_feed)).content)[uid]
    assert str(taken["STATUS"]) == "CONFIRMED"
    assert taken.start.astimezone(WED_0900.tzinfo) == WED_0900 + timedelta(hours=1)

    # A move that keeps the referent leaves no ghost in anyone's feed.
    again = await client.post(
        f"/api/v1/appointments/{moved['id']}/move",
        headers=s.auth(),
        json={"starts_at": (WED_0900 + timedelta(hours=2)).isoformat()},
    )
    assert again.status_code == 200, again.text
    kept = _events((await client.get(new_feed)).content)
    assert str(kept[uid]["STATUS"]) == "CONFIRMED" and len(kept) == 1
    assert str(_events((await client.get(old_feed)).content)[uid]["STATUS"]) == "CANCELLED"


async def test_head_answers_like_get_without_a_body(
    client: Client, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    await book(client, s, WED_0900, referent_id=str(s.referent_ids[0]))
    path = await create_feed(client, s.auth(s.referent_ids[0]))
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["etag"] == f'"{hashlib.sha256(got.content).hexdigest()}"'
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)
    same = await client.head(path, headers={"If-None-Match": got.headers["etag"]})
    assert same.status_code == 304 and same.content == b""
    unknown = await client.head("/feeds/" + "x" * 43 + ".ics")
    assert unknown.status_code == 404 and unknown.content == b""


async def test_events_link_to_the_agenda_not_the_api(
    client: Client, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    booked = await book(client, s, WED_0900, referent_id=str(s.referent_ids[0]))
    for headers, path, team in (
        (s.auth(s.referent_ids[0]), "/api/v1/calendar-feeds/me", ""),
        (s.auth(), f"/api/v1/calendar-feeds/territories/{s.territory_id}", "&equipe=1"),
    ):
        body = (await client.get(await create_feed(client, headers, path))).content
        event = _events(body)[f"appointment-{booked['id']}@rdv-spie"]
        # Wednesday 2 December 2026: the week of Monday 30 November.
        assert str(event["URL"]).endswith(
            f"/agent/agenda?semaine=2026-11-30{team}#rdv-{booked['id']}"
        )
        assert "/api/" not in body.decode()
