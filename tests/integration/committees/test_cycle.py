"""The whole committee cycle with the clock moving: 12 requests for 10 places, the freeze at
D-3 (10 on the agenda, 2 carried over, their referents told), the agenda at D-2 (one e-mail
with a valid .ics per member who accepted the charter), and both jobs run twice change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.support.cto import Cto, calendar_of
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.committees.models import CtoRequest
from rdv_spie.notifications.models import Notification
from rdv_spie.worker import jobs as job_functions
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow
SESSION_1 = datetime(2026, 12, 10, 7, 30, tzinfo=UTC)  # Thursday 08:30 in Paris
FREEZE_1 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Monday 14:00 in Paris: the deadline
DISPATCH_1 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Paris


async def statuses(cto: Cto) -> dict[str, list[str]]:
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        rows = await uow.session.execute(
            select(CtoRequest.session_id, CtoRequest.status, CtoRequest.agenda_number)
        )
        found: dict[str, list[str]] = {}
        for session_id, status, number in rows:
            found.setdefault(str(session_id), []).append(f"{status}:{number}")
        return found


async def outbox_count(cto: Cto) -> int:
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count(Notification.id))) or 0)


async def test_whole_cycle(
    cto: Cto, jobs: JobContext, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    runner = InProcessRunner(jobs, sweep_seconds=60)
    sessions = await cto.sessions()
    first, second = sessions[0], sessions[1]
    assert datetime.fromisoformat(first["starts_at"]) == SESSION_1
    assert datetime.fromisoformat(first["freeze_at"]) == FREEZE_1
    assert datetime.fromisoformat(first["dispatch_at"]) == DISPATCH_1
    people = await cto.add_people(12)
    ids = []
    for i, person in enumerate(people):
        cto.clock.advance(timedelta(minutes=1))
        extra = {"urgent": True, "urgent_reason": "Expulsion prévue"} if i == 11 else {}
        referent = cto.s.referent_ids[i % 2]
        r = await cto.submit(first["id"], person, referent=referent, **extra)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    submitted_at = {
        i: (await cto.client.get(f"/api/v1/cto-requests/{i}", headers=cto.animator)).json()[
            "submitted_at"
        ]
        for i in ids
    }

    # Nothing happens before D-3.
    await runner.run_once()
    assert await job_functions.run_committees(runner.ctx) == {"frozen": 0, "dispatched": 0}

    cto.clock.set(FREEZE_1)
    await runner.run_once()
    state = await statuses(cto)
    on_first = sorted(state[first["id"]])
    assert len(on_first) == 10 and all(s.startswith("on_agenda:") for s in on_first)
    assert sorted(int(s.split(":")[1]) for s in on_first) == list(range(1, 11))
    assert sorted(state[second["id"]]) == ["carried_over:None", "carried_over:None"]
    # The urgent one (submitted last) is first; the two submitted last after it are carried.
    agenda = (
        await cto.client.get(f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.animator)
    ).json()
    assert [r["id"] for r in agenda][:2] == [ids[11], ids[0]]
    carried = [ids[9], ids[10]]
    for request_id in carried:
        r = (
            await cto.client.get(f"/api/v1/cto-requests/{request_id}", headers=cto.animator)
        ).json()
        assert r["session_id"] == second["id"] and r["carried_over_count"] == 1
        assert r["submitted_at"] == submitted_at[request_id]
    told = smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in told) == sorted(
        ["referent1@laon.test", "referent0@laon.test"]
    )
    assert all("reportée" in m.message["Subject"] for m in told)
    assert len(twilio.messages) == 0

    # Freezing again changes nothing and tells nobody twice.
    before = (await statuses(cto), await outbox_count(cto))
    assert await job_functions.freeze_cto_sessions(runner.ctx) == 0
    await runner.run_once()
    assert (await statuses(cto), await outbox_count(cto)) == before
    assert len(smtp.messages) == 2

    # Submitting to the frozen session is refused, pointing at the next one.
    late = await cto.submit(first["id"], people[0])
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    assert second["id"] in late.json()["detail"]

    smtp.reset()
    cto.clock.set(DISPATCH_1)
    await runner.run_once()
    agendas = smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in agendas) == [
        "partenaire0@partenaire.test",
        "partenaire1@partenaire.test",
    ]
    uids = set()
    for m in agendas:
        assert "10 situations" in m.message["Subject"]
        cal = calendar_of(m.message)
        assert str(cal["METHOD"]) == "REQUEST"
        event = cal.walk("VEVENT")[0]
        assert event.decoded("DTSTART").astimezone(UTC) == SESSION_1
        # Never moved; its count of situations changed 14 times (12 came, 2 carried over).
        assert int(event["SEQUENCE"]) == 14 and "CTO Laon" in str(event["SUMMARY"])
        uids.add(str(event["UID"]))
        text = m.message.get_body(("plain",)).get_content()
        assert "Situation n° 1 (urgente)" in text and "Département laon" in text
    assert len(uids) == 1 and first["id"] in uids.pop()

    # Dispatching again sends nothing more.
    before = (await statuses(cto), await outbox_count(cto))
    assert await job_functions.run_committees(runner.ctx) == {"frozen": 0, "dispatched": 0}
    await runner.run_once()
    assert (await statuses(cto), await outbox_count(cto)) == before
    assert len(smtp.messages) == 2

    # After the session: a decision, and the person is told on both channels, generically.
    decided = await cto.client.post(
        f"/api/v1/cto-requests/{ids[0]}/decision",
        headers=cto.animator,
        json={
            "decision": "Orientation vers le bailleur social",
            "next_steps": "Votre référente vous appelle cette semaine.",
        },
    )
    assert decided.status_code == 409 and decided.json()["code"] == "session_not_held"
    cto.clock.set(SESSION_1 + timedelta(hours=3))
    decided = await cto.client.post(
        f"/api/v1/cto-requests/{ids[0]}/decision",
        headers=cto.animator,
        json={
            "decision": "Orientation vers le bailleur social",
            "next_steps": "Votre référente vous appelle cette semaine.",
        },
    )
    assert decided.status_code == 200 and decided.json()["status"] == "decided", decided.text
    smtp.reset()
    await runner.run_once()
    sms = twilio.wait_for(1)
    assert len(sms) == 1
    body = sms[0].body
    assert "étudiée" in body and "logement" not in body.lower() and "bus" not in body
    mail = smtp.wait_for(1)[0]
    assert mail.rcpt_tos == ("personne0@exemple.fr",)
    assert "Votre référente vous appelle" in mail.message.get_body(("plain",)).get_content()
