"""The partners' subscribe page: each member makes their own link to the series' calendar
(webcal:// and https://), shown once; a new link stops the old one and leaves the other
members' links working; removing a member ends their link; the feed names no person."""

from __future__ import annotations

import re
import uuid

import httpx
import icalendar
from tests.integration.web_office.office_support import Office, body, csrf, login, set_password
from tests.support.cto import Cto, agent

from rdv_spie.agents.models import Role
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import paths
from rdv_spie.db.uow import Database

CANARY = "Zorglubabonne"
_LINK = re.compile(r'id="lien-https" class="url" value="([^"]+)"')
_WEBCAL = re.compile(r'id="lien-webcal" class="url" value="([^"]+)"')


def _at(path: str, series_id: uuid.UUID) -> str:
    return path.replace("{series_id:uuid}", str(series_id))


async def _new_link(client: httpx.AsyncClient, series_id: uuid.UUID) -> tuple[str, str]:
    page = await client.get(_at(paths.SUBSCRIBE, series_id))
    assert page.status_code == 200
    made = await client.post(
        _at(paths.SUBSCRIBE_NEW_LINK, series_id), data={"csrf_token": csrf(body(page))}
    )
    assert made.status_code == 200, made.text
    https, webcal = _LINK.search(made.text), _WEBCAL.search(made.text)
    assert https and webcal, made.text
    assert webcal.group(1) == "webcal://" + https.group(1).split("://", 1)[1]
    assert 'data-copy="lien-https"' in made.text and "/static/copy.js" in made.text
    return https.group(1), "/" + https.group(1).split("/", 3)[3]


async def test_each_member_has_their_own_link(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    s = office.s
    async with db.unit_of_work(clock=clock) as uow:
        first = await agent(uow, s, s.organisation_id, "abonne1", Role.PARTNER)
        second = await agent(uow, s, s.organisation_id, "abonne2", Role.PARTNER)
        outsider = await agent(uow, s, s.organisation_id, "dehors", Role.PARTNER)
    c = Cto(s, client, db, clock, s.organisation_id, [first], s.organisation_id, s.referent_ids[0])
    r = await client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "CTO de Soissons",
            "starts_on": "2026-12-10",
            "place_id": str(s.place_ids[0]),
        },
    )
    assert r.status_code == 201, r.text
    series_id = uuid.UUID(r.json()["id"])
    c.series_id = series_id
    for who in (first, second):
        added = await client.post(
            f"/api/v1/cto-series/{series_id}/members",
            headers=c.animator,
            json={"agent_id": str(who)},
        )
        assert added.status_code == 201, added.text
    (person,) = await c.add_people(1, last_name=CANARY)
    session = (await c.sessions())[0]
    assert (await c.submit(session["id"], person)).status_code == 201

    # The first member (charter not accepted: the calendar names nobody) makes a link.
    assert (await login(client, await set_password(db, clock, first))).status_code == 303
    portal = body(await client.get(paths.PORTAL))
    assert _at(paths.SUBSCRIBE, series_id) in portal
    before = body(await client.get(_at(paths.SUBSCRIBE, series_id)))
    assert "Outlook" in before and "Google Agenda" in before and "Thunderbird" in before
    assert "Créer mon lien" in before
    url_one, feed_one = await _new_link(client, series_id)
    feed = await client.get(feed_one)
    assert feed.status_code == 200 and CANARY not in feed.text
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert any(str(e["SUMMARY"]) == "CTO CTO de Soissons — 1 situation" for e in events)
    again = body(await client.get(_at(paths.SUBSCRIBE, series_id)))
    assert url_one not in again and "Créer un nouveau lien" in again  # shown once

    # The second member's link; then the first makes a new one: only the first's old link stops.
    client.cookies.clear()
    assert (await login(client, await set_password(db, clock, second))).status_code == 303
    _, feed_two = await _new_link(client, series_id)
    client.cookies.clear()
    assert (await login(client, await set_password(db, clock, first))).status_code == 303
    _, feed_three = await _new_link(client, series_id)
    assert (await client.get(feed_one)).status_code == 404
    assert (await client.get(feed_two)).status_code == 200
    assert (await client.get(feed_three)).status_code == 200

    # Removing the second member ends their link.
    removed = await client.delete(
        f"/api/v1/cto-series/{series_id}/members/{second}", headers=c.animator
    )
    assert removed.status_code in (200, 204), removed.text
    assert (await client.get(feed_two)).status_code == 404
    assert (await client.get(feed_three)).status_code == 200

    # Someone who does not sit on the series: the 404 of an unknown one, GET and POST.
    client.cookies.clear()
    assert (await login(client, await set_password(db, clock, outsider))).status_code == 303
    token = csrf(body(await client.get(paths.PORTAL)))
    assert (await client.get(_at(paths.SUBSCRIBE, series_id))).status_code == 404
    refused = await client.post(
        _at(paths.SUBSCRIBE_NEW_LINK, series_id), data={"csrf_token": token}
    )
    assert refused.status_code == 404
