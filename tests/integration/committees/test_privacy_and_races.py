"""Nothing about a person reaches partners (canary strings in every personal field, searched in
every partner e-mail and in the series and territory feeds), and submissions racing the freeze
never put more than the capacity on an agenda nor lose a request."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.support.cto import Cto
from tests.support.smtp_server import ReceivedEmail, SmtpServer

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Role
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import cycle, requests
from rdv_spie.committees.models import CtoRequest, RequestStatus
from rdv_spie.errors import Conflict
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow
DEADLINE_1 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
DISPATCH_1 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
MARKERS = [
    "canaryprenom",
    "canarynom",
    "canary.mail",
    "699887766",
    "99 88 77 66",
    "canary-summary",
    "canary-tried",
    "canary-urgent",
    "canary-caf",
    "canary-ft",
]


def _texts(m: ReceivedEmail) -> str:
    parts = [m.raw.decode("utf-8", "replace"), str(m.message["Subject"])]
    for part in m.message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts).lower()


async def test_canary_never_reaches_partners(cto: Cto, jobs: JobContext, smtp: SmtpServer) -> None:
    runner = InProcessRunner(jobs, sweep_seconds=60)
    first = (await cto.sessions())[0]
    (person,) = await cto.add_people(
        1,
        first_name="CanaryPrenom",
        last_name="CanaryNom",
        email="canary.mail@exemple.fr",
        phone="+33699887766",
        caf_number="CANARY-CAF",
        france_travail_id="CANARY-FT",
    )
    r = await cto.submit(
        first["id"],
        person,
        summary="CANARY-SUMMARY",
        already_tried="CANARY-TRIED",
        urgent=True,
        urgent_reason="CANARY-URGENT",
    )
    assert r.status_code == 201, r.text
    series_feed = await cto.client.post(
        f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.animator
    )
    territory_feed = await cto.client.post(
        f"/api/v1/calendar-feeds/territories/{cto.s.territory_id}", headers=cto.animator
    )
    feeds = ["/" + f.json()["url"].split("/", 3)[3] for f in (series_feed, territory_feed)]

    cto.clock.set(DEADLINE_1)
    await runner.run_once()
    cto.clock.set(DISPATCH_1)
    await runner.run_once()
    # The members' authenticated agenda does carry the fiche.
    sworn = await cto.client.get(
        f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.auth(cto.partner_ids[0])
    )
    assert sworn.json()[0]["summary"] == "CANARY-SUMMARY"
    assert sworn.json()[0]["person_last_name"] == "CanaryNom"
    assert sworn.json()[0]["structure"] == "Département laon"
    # … and that read is in the audit trail.
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        trail = await uow.session.execute(
            select(FileRead.agent_id, FileRead.what).where(FileRead.person_id == person)
        )
        assert (cto.partner_ids[0], "cto_agenda") in {(a, w) for a, w in trail}
    await cto.client.post(
        f"/api/v1/cto-sessions/{first['id']}/move",
        headers=cto.animator,
        json={"starts_at": "2026-12-11T08:00:00+00:00"},
    )
    await runner.run_once()
    bodies = [(await cto.client.get(path)).content.decode().lower() for path in feeds]
    await cto.client.post(f"/api/v1/cto-sessions/{first['id']}/cancel", headers=cto.animator)
    await runner.run_once()
    bodies += [(await cto.client.get(path)).content.decode().lower() for path in feeds]

    partner_mail = [m for m in smtp.messages if m.rcpt_tos[0].startswith("partenaire")]
    # Agenda, move and cancellation, to each of the two members who accepted the charter.
    assert len(partner_mail) == 6
    assert any("situation n° 1 (urgente)" in _texts(m) for m in partner_mail)
    assert all("cto laon" in body for body in bodies)
    for text in [*map(_texts, partner_mail), *bodies]:
        for marker in MARKERS:
            assert marker not in text, marker


async def test_submissions_racing_the_freeze_never_exceed_capacity(cto: Cto) -> None:
    first, second = (await cto.sessions())[:2]
    people = await cto.add_people(25)
    for person in people[:5]:
        assert (await cto.submit(first["id"], person)).status_code == 201
    before = FrozenClock(DEADLINE_1 - timedelta(seconds=1))  # they passed the check in time
    at = FrozenClock(DEADLINE_1)
    actors = [
        Actor(
            agent_id=referent,
            roles={cto.s.organisation_id: Role.REFERENT},
            territory_of={cto.s.organisation_id: cto.s.territory_id},
        )
        for referent in cto.s.referent_ids
    ]
    gate = asyncio.Semaphore(6)
    halfway = asyncio.Event()
    finished: list[int] = []

    async def submit(i: int) -> str:
        async with gate, cto.db.unit_of_work(clock=before) as uow:
            try:
                await requests.submit(
                    uow=uow,
                    actor=actors[i % 2],
                    values={
                        "session_id": uuid.UUID(first["id"]),
                        "person_id": people[5 + i],
                        "thematics": ["emploi_formation"],
                        "summary": "Situation",
                        "consent": True,
                    },
                )
            except Conflict as exc:
                return "refused" if exc.code == "deadline_passed" else exc.code
            finally:
                finished.append(i)
                if len(finished) >= 8:
                    halfway.set()
            return "accepted"

    async def freeze() -> int:
        # In the middle of the burst: some submissions are still waiting for the lock.
        await halfway.wait()
        return await cycle.freeze_due(cto.db, at)

    outcomes = await asyncio.gather(*(submit(i) for i in range(20)), freeze())
    accepted = outcomes[:20].count("accepted")
    assert outcomes[20] == 1 and accepted + outcomes[:20].count("refused") == 20
    assert accepted >= 8  # the freeze starts once 8 are in; the rest race it

    async with cto.db.unit_of_work(clock=at, write=False) as uow:
        rows = (await uow.session.execute(select(CtoRequest.session_id, CtoRequest.status))).all()
    on_agenda = [r for r in rows if r.status == RequestStatus.ON_AGENDA]
    carried = [r for r in rows if r.status == RequestStatus.CARRIED_OVER]
    assert len(on_agenda) <= 10
    assert all(str(r.session_id) == first["id"] for r in on_agenda)
    assert all(str(r.session_id) == second["id"] for r in carried)
    # Every request accepted is on the agenda or carried over: none lost, none left behind.
    assert len(on_agenda) + len(carried) == 5 + accepted == len(rows)
    assert len(on_agenda) == min(10, len(rows))
    assert await cycle.freeze_due(cto.db, at) == 0
