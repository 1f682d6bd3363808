"""``make bench``, calendar feeds: rendering a feed of 2,000 events, and the requests per second
of the 304 path (a calendar app polling an unchanged feed) next to a trivial Litestar endpoint
served the same way in the same run (one uvicorn process on loopback, the same client and
concurrency as tests/bench.py).

Targets (issue 5): a 2,000-event feed renders in <= 100 ms; the 304 path reaches >= 50 % of the
trivial endpoint's requests per second, on both engines (issue 17).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import insert
from tests.bench import CONCURRENCY, load, prepare
from tests.support import scenario as sc
from tests.support.benchreport import Report
from tests.support.server import serve

from rdv_spie.calendars import content, service
from rdv_spie.calendars.feed import render_feed
from rdv_spie.calendars.models import FeedKind
from rdv_spie.clock import SystemClock
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import Appointment, AppointmentAgent
from rdv_spie.settings import Settings

EVENTS = 2000
RENDER_CEILING_MS = 100.0
SHARE_TARGET = 0.5
REQUESTS = 3000
VERDICT = {True: "ok", False: "MISSED"}


async def seed(url: str) -> tuple[sc.Scenario, str, Database]:
    """One referent with EVENTS appointments an hour apart around today, each with a person;
    a feed link for them."""
    db = Database(create_engine(Settings(database_url=url)))
    clock = SystemClock()
    s = await sc.build(db, clock, slug="feeds", referents=1)
    referent = s.referent_ids[0]
    now = clock.now()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=30)
    statuses = ["booked", "seen", "noshow", "excused", "cancelled", "revoked"]
    async with db.unit_of_work(clock=clock) as uow:
        people, appointments, attendees = [], [], []
        for i in range(EVENTS):
            person_id = uuid.uuid4()
            people.append(
                {
                    "id": person_id,
                    "territory_id": s.territory_id,
                    "first_name": f"Prénom{i}",
                    "last_name": f"Nom{i}",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            start = first + timedelta(hours=i)
            end = start + timedelta(minutes=45)
            aid = uuid.uuid4()
            status = statuses[i % 6] if i % 3 == 0 else "booked"
            appointments.append(
                {
                    "id": aid,
                    "territory_id": s.territory_id,
                    "acting_organisation_id": s.organisation_id,
                    "appointment_type_id": s.single_type_id,
                    "place_id": s.place_ids[0],
                    "person_id": person_id,
                    "starts_at": start,
                    "ends_at": end,
                    "busy_until": end,
                    "status": status,
                    "sequence": i % 4,
                    "created_by_agent_id": None,
                    "submission_key": None,
                    "created_at": now,
                    "updated_at": now - timedelta(seconds=i),
                }
            )
            attendees.append(
                {
                    "appointment_id": aid,
                    "agent_id": referent,
                    "role": "referent",
                    "starts_at": start,
                    "busy_until": end,
                    "active": status in ("booked", "seen", "noshow"),
                }
            )
        await uow.session.execute(insert(Person), people)
        await uow.session.execute(insert(Appointment), appointments)
        await uow.session.execute(insert(AppointmentAgent), attendees)
    async with db.unit_of_work(clock=clock) as uow:
        issued = await service.issue_feed(
            uow=uow,
            kind=FeedKind.AGENT,
            subject_id=referent,
            created_by=referent,
            valid_days=365,
        )
    return s, issued.token, db


async def render_times(db: Database, token: str) -> tuple[list[float], list[float], int]:
    """Rendering alone (events already loaded), and loading plus rendering, in ms."""
    settings = Settings()
    async with db.engine.connect() as conn:
        feed = await service.find_active(conn, token=token, now=SystemClock().now())
    async with db.unit_of_work(clock=SystemClock(), write=False) as uow:
        assert feed is not None
        about = await content.subject(uow, feed)
        assert about is not None
        w = content.window(uow.clock.now(), past_days=92, future_days=366)
        events = await content.events(uow, feed, w, public_url=settings.public_url)
        render, full = [], []
        for _ in range(15):
            started = time.perf_counter()
            render_feed(name=about.name, tzid=about.tzid, events=events)
            render.append((time.perf_counter() - started) * 1000)
        for _ in range(5):
            started = time.perf_counter()
            loaded = await content.events(uow, feed, w, public_url=settings.public_url)
            render_feed(name=about.name, tzid=about.tzid, events=loaded)
            full.append((time.perf_counter() - started) * 1000)
    return render, full, len(events)


async def bench(kind: str, report: Report) -> bool:
    report.heading(f"feeds, {kind}")
    url = await prepare(kind)
    _, token, db = await seed(url)
    render, full, count = await render_times(db, token)
    await db.dispose()
    path = f"/feeds/{token}.ics"
    with serve(url, app="tests.bench:trivial_app", ready_path="/ping") as trivial:
        await load(trivial.url, ["/ping"] * 200)  # warm-up
        ceiling = await load(trivial.url, ["/ping"] * REQUESTS)
    with serve(url) as server:
        first = httpx.get(server.url + path, timeout=30)
        assert first.status_code == 200, first.status_code
        etag = first.headers["etag"]
        headers = {"If-None-Match": etag}
        await load(server.url, [path] * 200, headers=headers)  # warm-up
        not_modified = await load(server.url, [path] * REQUESTS, headers=headers)
        check = httpx.get(server.url + path, headers=headers, timeout=30)
        assert check.status_code == 304 and check.content == b"", check.status_code
        whole = await load(server.url, [path] * 100)
    share = not_modified.rps / ceiling.rps
    render_ms = statistics.median(render)
    print(f"  {count} events, {len(first.content) / 1024:.0f} KiB")
    print(f"  {'':24}{'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, m in [
        (f"trivial, {CONCURRENCY} in flight", ceiling),
        (f"feed 304, {CONCURRENCY} in flight", not_modified),
        (f"feed 200, {CONCURRENCY} in flight", whole),
    ]:
        print(f"  {name:24}{m.rps:8.0f} {m.p50_ms:8.1f} {m.p95_ms:8.1f}")
    print(
        f"  render {count} events: median {render_ms:.1f} ms (min {min(render):.1f}) "
        f"vs ceiling <= {RENDER_CEILING_MS:.0f} ms: {VERDICT[render_ms <= RENDER_CEILING_MS]}"
    )
    print(f"  load + render (a cache miss): median {statistics.median(full):.1f} ms")
    print(
        f"  304 path {not_modified.rps:.0f} req/s = {share:.0%} of the trivial endpoint's "
        f"{ceiling.rps:.0f} vs target >= {SHARE_TARGET:.0%}: {VERDICT[share >= SHARE_TARGET]}"
    )
    errors = ceiling.errors + not_modified.errors + whole.errors
    report.target(f"render {count} events, median", render_ms, "ms", at_most=RENDER_CEILING_MS)
    report.info("load + render (a cache miss), median", statistics.median(full), "ms")
    report.info(f"feed 304 req/s, {CONCURRENCY} in flight", not_modified.rps, "req/s")
    report.target("feed 304 share of trivial req/s", share, "%", at_least=SHARE_TARGET, ceiling=1.0)
    report.info("feed 200 p95", whole.p95_ms, "ms")
    return report.guarantee("error answers", errors, "", holds=errors == 0, rule="= 0")


def main() -> int:
    kinds = sys.argv[1:] or ["postgresql", "sqlite"]
    report = Report("feeds")
    for kind in kinds:
        asyncio.run(bench(kind, report))
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
