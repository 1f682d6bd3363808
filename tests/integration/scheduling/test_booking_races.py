"""Races through HTTP against a real server process, on both engines: concurrent bookings of
overlapping slots give exactly one 201, the rest 409, never a 5xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.support import scenario as sc
from tests.support.server import serve

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

pytestmark = pytest.mark.slow
PARIS = ZoneInfo("Europe/Paris")
ATTEMPTS = 30


def next_wednesday_0900() -> datetime:
    """09:00 Paris on a Wednesday at least three days after the real today (the server process
    runs on the real clock)."""
    day = date.today() + timedelta(days=3)
    day += timedelta(days=(2 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 9, tzinfo=PARIS).astimezone(UTC)


async def race(base: str, s: sc.Scenario, type_id: object, starts: list[datetime]) -> Counter[int]:
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=ATTEMPTS)
    ) as client:

        async def one(at: datetime) -> int:
            r = await client.post(
                "/api/v1/appointments",
                headers=s.auth(),
                json={
                    "appointment_type_id": str(type_id),
                    "place_id": str(s.place_ids[0]),
                    "starts_at": at.isoformat(),
                },
            )
            assert r.status_code < 500, r.text
            if r.status_code == 409:
                assert r.json()["code"] == "slot_taken"
            return r.status_code

        return Counter(await asyncio.gather(*(one(at) for at in starts)))


def overlapping_starts(first: datetime) -> list[datetime]:
    """30 starts on the grid, all within 45 minutes of each other (every pair overlaps)."""
    return [first + timedelta(minutes=15 * (i % 4)) for i in range(ATTEMPTS)]


async def test_one_referent_thirty_bookings(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, referents=1, weekdays=0b1111111)
    with serve(database_url) as server:
        outcome = await race(
            server.url, s, s.single_type_id, overlapping_starts(next_wednesday_0900())
        )
    assert outcome == Counter({201: 1, 409: ATTEMPTS - 1})


async def test_tripartite_sharing_one_animator(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, referents=3, weekdays=0b1111111)
    with serve(database_url) as server:
        outcome = await race(
            server.url, s, s.tripartite_type_id, overlapping_starts(next_wednesday_0900())
        )
    assert outcome == Counter({201: 1, 409: ATTEMPTS - 1})


async def test_concurrent_moves_and_cancel_of_one_appointment(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    """Ten moves and a cancellation of the same appointment at once: no 5xx, and the rows that
    hold agents' time agree with the final status and time."""
    from sqlalchemy import select

    from rdv_spie.scheduling.models import Appointment, AppointmentAgent

    s = await sc.build(db, clock, referents=2, weekdays=0b1111111)
    first = next_wednesday_0900()
    with serve(database_url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            r = await client.post(
                "/api/v1/appointments",
                headers=s.auth(),
                json={
                    "appointment_type_id": str(s.single_type_id),
                    "place_id": str(s.place_ids[0]),
                    "starts_at": first.isoformat(),
                },
            )
            assert r.status_code == 201
            url = f"/api/v1/appointments/{r.json()['id']}"
            calls = [
                client.post(
                    f"{url}/move",
                    headers=s.auth(),
                    json={"starts_at": (first + timedelta(minutes=15 * (i + 1))).isoformat()},
                )
                for i in range(10)
            ]
            calls.insert(5, client.post(f"{url}/cancel", headers=s.auth()))
            statuses = [r.status_code for r in await asyncio.gather(*calls)]
    assert all(code < 500 for code in statuses), statuses
    async with db.unit_of_work(clock=clock, write=False) as uow:
        appointment = (await uow.session.scalars(select(Appointment))).one()
        rows = (await uow.session.scalars(select(AppointmentAgent))).all()
    assert len(rows) == 1
    assert rows[0].active == (appointment.status == "booked")
    assert rows[0].starts_at == appointment.starts_at
    assert appointment.sequence == sum(1 for code in statuses if code == 200)
