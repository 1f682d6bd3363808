"""Feed links through the JSON API: an agent's own link (shown once, rotated, revoked), a
territory's link for its admins and animators only, problem details for everything else."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from tests.support import scenario as sc

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings

Client = httpx.AsyncClient
ME = "/api/v1/calendar-feeds/me"


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def test_an_agent_makes_rotates_and_revokes_their_link(
    client: Client, clock: FrozenClock, s: sc.Scenario
) -> None:
    me = s.auth(s.referent_ids[0])
    r = await client.get(ME, headers=me)
    assert r.status_code == 200
    assert r.json() == {
        "kind": "agent",
        "subject_id": str(s.referent_ids[0]),
        "active": False,
        "created_at": None,
        "expires_at": None,
    }

    made = await client.post(ME, headers=me)
    assert made.status_code == 201
    link = made.json()
    assert link["url"].startswith("http://127.0.0.1:8000/feeds/")
    assert link["url"].endswith(".ics")
    token = link["url"].removeprefix("http://127.0.0.1:8000/feeds/").removesuffix(".ics")
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert link["webcal_url"] == f"webcal://127.0.0.1:8000/feeds/{token}.ics"

    status = (await client.get(ME, headers=me)).json()
    assert status["active"] is True
    assert status["created_at"] == link["created_at"]
    assert status["expires_at"] == link["expires_at"]
    assert token not in str(status)

    rotated = (await client.post(ME, headers=me)).json()
    assert rotated["url"] != link["url"]
    assert (await client.get("/" + link["url"].split("/", 3)[3])).status_code == 404
    assert (await client.get("/" + rotated["url"].split("/", 3)[3])).status_code == 200

    assert (await client.delete(ME, headers=me)).status_code == 204
    assert (await client.get(ME, headers=me)).json()["active"] is False
    assert (await client.get("/" + rotated["url"].split("/", 3)[3])).status_code == 404
    assert (await client.delete(ME, headers=me)).status_code == 204  # nothing left: still fine


async def test_links_expire_after_a_year_or_at_the_programme_end(
    settings: Settings, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    ending = settings.model_copy(
        update={"feed_programme_end_on": (clock.now() + timedelta(days=30)).date()}
    )
    app = create_app(ending, Overrides(clock=clock, database=db))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as client:
        link = (await client.post(ME, headers=s.auth(s.referent_ids[0]))).json()
        assert link["expires_at"] == "2027-01-01T00:00:00Z"  # the end of 31 December (UTC)
        clock.advance(timedelta(days=40))
        r = await client.post(ME, headers=s.auth(s.referent_ids[0]))
        assert r.status_code == 403 and r.json()["code"] == "programme_ended"


async def test_territory_links_are_for_its_admins_and_animators(
    client: Client, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    path = f"/api/v1/calendar-feeds/territories/{s.territory_id}"
    for manager in (s.admin_id, s.animator_id):
        r = await client.post(path, headers=s.auth(manager))
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "territory"
    status = await client.get(path, headers=s.auth())
    assert status.json()["active"] is True

    r = await client.post(path, headers=s.auth(s.referent_ids[0]))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "forbidden" and r.json()["field"] == "territory_id"

    other = await sc.build(db, clock, slug="other")
    for method in ("GET", "POST", "DELETE"):
        r = await client.request(method, path, headers=other.auth())
        assert r.status_code == 404, method  # another organisation's territory looks unknown
        assert r.json()["code"] == "not_found"
    r = await client.post(
        f"/api/v1/calendar-feeds/territories/{other.territory_id}", headers=s.auth()
    )
    assert r.status_code == 404

    assert (await client.delete(path, headers=s.auth(s.animator_id))).status_code == 204
    assert (await client.get(path, headers=s.auth())).json()["active"] is False


async def test_an_api_key_is_needed(client: Client, s: sc.Scenario) -> None:
    r = await client.post(ME)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
