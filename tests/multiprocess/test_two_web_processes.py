"""Two web processes on one PostgreSQL and one Redis (issue 18 item 1, the web half), no
container engine: the shape of compose.yaml on loopback. A 200-way booking race on one slot,
spread over both processes, gives only 201 and 409, as many 201 as the slot had free
referents, and no agent holding two overlapping appointments; a booking through one process
is seen by the other's next slot search and by its next feed poll (no state in a process's
memory outlives a write in another).

PostgreSQL only: SQLite is the one-process laptop default. Bounded: 200 requests, 40 in
flight, each with a 30 s timeout."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support import scenario as sc
from tests.support.server import Running, serve

from rdv_spie.clock import SystemClock
from rdv_spie.db import migrate
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings

PARIS = ZoneInfo("Europe/Paris")
RACERS = 200
IN_FLIGHT = 40
NAME = "rdv_multi"


async def _fresh(admin_url: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {NAME}"))
    await engine.dispose()


@pytest.fixture
def multi_url() -> str:
    main = os.environ.get("RDV_TEST_POSTGRES_URL")
    if not main:
        pytest.fail("RDV_TEST_POSTGRES_URL is not set: run the suite with `make test`")
    admin = os.environ.get("RDV_TEST_POSTGRES_ADMIN_URL") or main.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(_fresh(admin))
    url = main.rsplit("/", 1)[0] + f"/{NAME}"
    migrate.upgrade(Settings(database_url=url))
    return url


def _window(monday: date) -> dict[str, str]:
    start = datetime.combine(monday, wall(0), PARIS)
    return {"from": start.isoformat(), "to": (start + timedelta(days=5)).isoformat()}


async def _slots(
    client: httpx.AsyncClient, server: Running, s: sc.Scenario, monday: date
) -> list[dict[str, object]]:
    r = await client.get(
        f"{server.url}/api/v1/slots",
        params={"appointment_type_id": str(s.single_type_id), **_window(monday)},
        headers=s.auth(),
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()
    return found


async def _overlaps(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM appointment_agent a JOIN appointment_agent b "
                "ON a.agent_id = b.agent_id AND a.appointment_id < b.appointment_id "
                "AND a.active AND b.active "
                "AND a.starts_at < b.busy_until AND b.starts_at < a.busy_until"
            )
        )
    await engine.dispose()
    return int(found or 0)


def test_two_web_processes_share_one_truth(multi_url: str) -> None:
    async def seed() -> sc.Scenario:
        db = Database(create_engine(Settings(database_url=multi_url)))
        s = await sc.build(db, SystemClock(), slug="multi", referents=3)
        await db.dispose()
        return s

    s = asyncio.run(seed())
    today = SystemClock().now().astimezone(PARIS).date()
    monday = today + timedelta(days=7 - today.weekday())
    env = {
        "RDV_SECRET_KEY": secrets.token_urlsafe(48),
        "RDV_REDIS_URL": os.environ.get("RDV_TEST_REDIS_URL", ""),
        "RDV_LOG_LEVEL": "WARNING",
    }
    with serve(multi_url, extra_env=env) as a, serve(multi_url, extra_env=env) as b:
        asyncio.run(_race_and_see(multi_url, s, monday, a, b))


async def _race_and_see(url: str, s: sc.Scenario, monday: date, a: Running, b: Running) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        # Both processes have searched (and cached) the week before anything is written.
        before_a, before_b = await _slots(client, a, s, monday), await _slots(client, b, s, monday)
        assert before_a == before_b and before_a
        slot = before_a[0]
        free = int(str(slot["free_referents"]))
        assert free == 3
        body = {
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(slot["place_id"]),
            "starts_at": str(slot["starts_at"]),
        }
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(i: int) -> int:
            server = a if i % 2 else b
            async with gate:
                r = await client.post(
                    f"{server.url}/api/v1/appointments", json=body, headers=s.auth()
                )
            return r.status_code

        answers = Counter(await asyncio.gather(*(one(i) for i in range(RACERS))))
        print(f"\n{RACERS} bookings of one slot over two processes: {dict(answers)}")
        assert set(answers) <= {201, 409}, answers
        assert answers[201] == free
        assert await _overlaps(url) == 0

        # The other process's next search no longer offers the slot.
        after_b = await _slots(client, b, s, monday)
        assert all(x["starts_at"] != slot["starts_at"] for x in after_b)
        assert await _slots(client, a, s, monday) == after_b

        # A feed made through A, polled on B, changes with a booking written through A.
        referent = s.referent_ids[0]
        made = await client.post(f"{a.url}/api/v1/calendar-feeds/me", headers=s.auth(referent))
        assert made.status_code == 201, made.text
        feed = "/" + made.json()["url"].split("/", 3)[3]
        first = await client.get(f"{b.url}{feed}")
        assert first.status_code == 200
        nxt = after_b[0]
        booked = await client.post(
            f"{a.url}/api/v1/appointments",
            json={
                "appointment_type_id": str(s.single_type_id),
                "place_id": str(nxt["place_id"]),
                "starts_at": str(nxt["starts_at"]),
                "referent_id": str(referent),
            },
            headers=s.auth(),
        )
        assert booked.status_code == 201, booked.text
        second = await client.get(
            f"{b.url}{feed}", headers={"If-None-Match": first.headers["etag"]}
        )
        assert second.status_code == 200
        assert f"appointment-{booked.json()['id']}@rdv-spie" in second.text
        assert datetime.fromisoformat(str(nxt["starts_at"])).astimezone(UTC) > datetime.now(UTC)
