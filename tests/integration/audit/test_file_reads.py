"""Every read of a person's file by an agent is in the audit trail, on both engines: the API
reads that show people, who may read the trail, its retention, and a guard that no API read
showing people forgets to take SQLite's write lock for the trail."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import select
from tests.integration.web_office.office_support import add_cohort, add_journey
from tests.support import scenario as sc
from tests.support import world

from rdv_spie.audit import service as audit
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person
from rdv_spie.privacy import retention
from rdv_spie.settings import Settings
from rdv_spie.worker import inprocess, jobs
from rdv_spie.worker.inprocess import InProcessRunner
from rdv_spie.worker.settings import worker_settings

WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 2 December, 09:00 in Paris


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock, slug="laon")


async def trail(db: Database, clock: FrozenClock) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(agent, person, what) of every row, oldest first."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(FileRead.agent_id, FileRead.person_id, FileRead.what).order_by(
                FileRead.at, FileRead.what, FileRead.person_id
            )
        )
        return [(a, p, w) for a, p, w in rows]


async def book_for_someone(client: httpx.AsyncClient, s: sc.Scenario) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(s.referent_ids[0]),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WED_0900.isoformat(),
            "person": {"first_name": "Lina", "last_name": "Moreau"},
        },
    )
    assert r.status_code == 201, r.text
    booked: dict[str, Any] = r.json()
    return booked


async def test_reading_appointments_is_in_the_trail(
    client: httpx.AsyncClient, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    booked = await book_for_someone(client, s)
    person = uuid.UUID(booked["person_id"])
    assert await trail(db, clock) == []  # booking is not reading
    clock.advance(timedelta(minutes=1))
    one = await client.get(f"/api/v1/appointments/{booked['id']}", headers=s.auth())
    assert one.status_code == 200
    clock.advance(timedelta(minutes=1))
    window = {"from": WED_0900.isoformat(), "to": (WED_0900 + timedelta(days=1)).isoformat()}
    listed = await client.get("/api/v1/appointments", headers=s.auth(s.animator_id), params=window)
    assert [a["id"] for a in listed.json()] == [booked["id"]]
    # A window with nobody in it reads nobody's file.
    empty = {"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z"}
    assert (await client.get("/api/v1/appointments", headers=s.auth(), params=empty)).json() == []
    assert await trail(db, clock) == [
        (s.admin_id, person, "appointment"),
        (s.animator_id, person, "appointments"),
    ]


async def test_a_refused_read_leaves_no_line(
    client: httpx.AsyncClient, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    booked = await book_for_someone(client, s)
    other = await sc.build(db, clock, slug="autre")
    refused = await client.get(f"/api/v1/appointments/{booked['id']}", headers=other.auth())
    assert refused.status_code == 404
    assert await trail(db, clock) == []


async def test_a_cohorts_journeys_are_in_the_trail(
    client: httpx.AsyncClient, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    cohort = await add_cohort(db, clock, s)
    journeys = [
        await add_journey(
            db,
            clock,
            territory_id=s.territory_id,
            cohort_id=cohort,
            last_name=name,
            appointment_by_on=date(2026, 12, 10),
        )
        for name in ("Martin", "Petit")
    ]
    r = await client.get(f"/api/v1/cohorts/{cohort}/journeys", headers=s.auth())
    assert r.status_code == 200 and {j["id"] for j in r.json()} == {str(j) for j in journeys}
    people = {uuid.UUID(j["person_id"]) for j in r.json()}
    rows = await trail(db, clock)
    assert {p for _, p, _ in rows} == people and len(rows) == 2
    assert {(a, w) for a, _, w in rows} == {(s.admin_id, "journeys")}


async def test_who_may_read_the_trail(
    client: httpx.AsyncClient, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    booked = await book_for_someone(client, s)
    person = booked["person_id"]
    await client.get(f"/api/v1/appointments/{booked['id']}", headers=s.auth(s.referent_ids[1]))
    clock.advance(timedelta(minutes=5))
    await client.get(f"/api/v1/appointments/{booked['id']}", headers=s.auth(s.animator_id))
    path = f"/api/v1/people/{person}/reads"
    for manager in (s.admin_id, s.animator_id):
        r = await client.get(path, headers=s.auth(manager))
        assert r.status_code == 200, r.text
        assert [(e["agent_name"], e["what"]) for e in r.json()] == [
            ("Animator Test", "appointment"),  # newest first
            ("Referent1 Test", "appointment"),
        ]
        assert r.json()[0]["at"] == (clock.now()).isoformat().replace("+00:00", "Z")
    # Reading the trail is not a read of the file.
    assert len(await trail(db, clock)) == 2
    referent = await client.get(path, headers=s.auth(s.referent_ids[0]))
    assert referent.status_code == 403
    other = await sc.build(db, clock, slug="autre")
    assert (await client.get(path, headers=other.auth())).status_code == 404
    assert (
        await client.get(f"/api/v1/people/{uuid.uuid4()}/reads", headers=s.auth())
    ).status_code == 404


async def test_the_trail_outlives_the_file_and_pages(
    client: httpx.AsyncClient, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(territory_id=s.territory_id, first_name="Lina", last_name="Moreau")
        uow.session.add(person)
        await uow.session.flush()
    for _ in range(3):
        async with db.unit_of_work(clock=clock) as uow:
            await audit.record(uow, s.referent_ids[0], [person.id], audit.Read.EMAIL)
        clock.advance(timedelta(minutes=1))
    # The retention purge erases the person's data: the trail stays readable.
    clock.advance(timedelta(days=800))
    assert await retention.purge(db, clock, keep_days=730) == 1
    # … and the erased file shows nothing more: a read of it writes no line.
    async with db.unit_of_work(clock=clock) as uow:
        await audit.record(uow, s.admin_id, [person.id], audit.Read.JOURNEY)
    path = f"/api/v1/people/{person.id}/reads"
    first = await client.get(path, headers=s.auth())
    assert first.status_code == 200, first.text
    assert [e["what"] for e in first.json()] == ["email"] * 3
    newest = [e["at"] for e in first.json()]
    assert newest == sorted(newest, reverse=True)
    page = await client.get(path, headers=s.auth(), params={"before": newest[0]})
    assert [e["at"] for e in page.json()] == newest[1:]
    naive = await client.get(path, headers=s.auth(), params={"before": "2026-12-01T09:00:00"})
    assert naive.status_code == 422 and naive.json()["field"] == "before"
    # Still only for the territory's managers.
    assert (await client.get(path, headers=s.auth(s.referent_ids[0]))).status_code == 403
    other = await sc.build(db, clock, slug="autre")
    assert (await client.get(path, headers=other.auth())).status_code == 404


async def test_the_trail_is_kept_for_the_retention_period(
    s: sc.Scenario,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep = 30
    person = uuid.uuid4()  # the trail outlives the file: no foreign key to the person
    async with db.unit_of_work(clock=clock) as uow:
        for age in (keep + 1, keep - 1, 0):
            uow.session.add(
                FileRead(
                    at=clock.now() - timedelta(days=age),
                    agent_id=s.admin_id,
                    person_id=person,
                    what=audit.Read.AGENDA,
                )
            )
    # The daily job, as the worker and the in-process runner call it, with the setting.
    configured = settings.model_copy(update={"audit_retention_days": keep})
    ctx = {"jobs": SimpleNamespace(db=db, clock=clock, settings=configured)}

    async def broken(_ctx: dict[str, Any]) -> None:
        raise RuntimeError("another daily job failed")

    # Without Redis the web process runs the daily jobs: one failing holds back no other.
    runner = InProcessRunner(ctx["jobs"], sweep_seconds=60)  # type: ignore[arg-type]
    monkeypatch.setattr(inprocess, "DAILY", (broken, jobs.purge_audit))
    try:
        await runner._daily()
    finally:
        db.on_due_notifications = None
    async with db.unit_of_work(clock=clock, write=False) as uow:
        left = list(await uow.session.scalars(select(FileRead.at).order_by(FileRead.at)))
    assert left == [clock.now() - timedelta(days=keep - 1), clock.now()]
    assert await jobs.purge_audit(ctx) == 0  # the runner's pass did it
    with_redis = configured.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    crons = worker_settings(with_redis)["cron_jobs"]
    assert "purge_audit" in {c.coroutine.__name__ for c in crons}


def _shows_people(annotation: Any, seen: set[Any] | None = None) -> bool:
    """Whether a return type carries a person's id or name (through lists and Structs)."""
    seen = seen if seen is not None else set()
    if annotation in seen:
        return False
    seen.add(annotation)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        hints = typing.get_type_hints(annotation)
        if any(name.startswith("person") for name in hints):
            return True
        return any(_shows_people(h, seen) for h in hints.values())
    return any(_shows_people(arg, seen) for arg in typing.get_args(annotation))


# How to call each API read that shows people, beyond its path parameters (query parameters).
def _query(w: world.World, now: datetime) -> dict[str, dict[str, str]]:
    return {
        "/api/v1/appointments": {
            "from": now.isoformat(),
            "to": (now + timedelta(days=14)).isoformat(),
        },
        "/api/v1/cto-requests/overdue": {"territory_id": str(w.s.territory_id)},
    }


async def test_every_api_read_that_shows_people_writes_the_trail(
    app: Litestar, client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    """Each GET whose answer carries people, called on a file it shows, writes that read to
    the trail; and it says so (opt reads_people), or SQLite refuses its trail line under
    concurrent writes."""
    s = await sc.build(db, clock, slug="trail")
    async with db.unit_of_work(clock=clock) as uow:
        w = await world.build(uow, s)
    ids = {
        "appointment_id": w.appointment_id,
        "cohort_id": w.cohort_id,
        "session_id": w.session_id,
        "request_id": w.request_id,
    }
    query = _query(w, clock.now())
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods:
                continue
            returned = handler.parsed_fn_signature.return_type.annotation
            if _shows_people(returned):
                found.append((route, bool(handler.opt.get("reads_people"))))
    assert len(found) >= 7  # journeys, appointments (2), CTO requests (3), CTO agenda
    assert [route.path for route, marked in found if not marked] == []

    read = []
    for route, _ in found:
        assert set(route.path_parameters) <= set(ids), f"say how to call {route.path}"
        path = route.path_format.format(**{name: ids[name] for name in route.path_parameters})
        before = await trail(db, clock)
        clock.advance(timedelta(seconds=1))
        r = await client.get(path, headers=s.auth(), params=query.get(route.path, {}))
        assert r.status_code == 200, (route.path, r.text)
        assert str(w.person_id) in r.text, route.path  # it shows the person's file …
        added = (await trail(db, clock))[len(before) :]
        assert added and all(line[:2] == (s.admin_id, w.person_id) for line in added), (
            route.path,
            added,
        )  # … and the trail says who read it
        read.append(route.path)
    assert len(read) == len(found)
