"""Situation requests through the API: the deadline (409 naming the next session), edit and
withdraw before it only, acknowledgement (the referent is e-mailed), the 72 h list, who may
read a request, and what a series and its members accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from tests.support.cto import Cto
from tests.support.smtp_server import SmtpServer

from rdv_spie.agents.models import Membership, Role
from rdv_spie.people.models import Journey
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

DEADLINE_1 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Monday 14:00 in Paris


async def test_deadline_refusal_names_the_next_session(cto: Cto) -> None:
    first, second = (await cto.sessions())[:2]
    (person,) = await cto.add_people(1)
    cto.clock.set(DEADLINE_1 - timedelta(seconds=1))
    assert (await cto.submit(first["id"], person)).status_code == 201
    cto.clock.set(DEADLINE_1)
    late = await cto.submit(first["id"], person)
    assert late.status_code == 409, late.text
    problem = late.json()
    assert problem["code"] == "deadline_passed" and problem["field"] == "session_id"
    assert second["id"] in problem["detail"] and "2026-12-24 08:30" in problem["detail"]
    assert (await cto.submit(second["id"], person)).status_code == 201


async def test_edit_and_withdraw_before_the_deadline_only(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    a, b = await cto.add_people(2)
    one = (await cto.submit(first["id"], a)).json()
    two = (await cto.submit(first["id"], b)).json()
    path = f"/api/v1/cto-requests/{one['id']}"
    headers = cto.auth(cto.s.referent_ids[0])
    edited = await cto.client.patch(
        path, headers=headers, json={"summary": "Nouvelle situation", "thematics": ["sante"]}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["summary"] == "Nouvelle situation"
    assert edited.json()["thematics"] == ["sante"]
    bad = await cto.client.patch(path, headers=headers, json={"urgent": True})
    assert bad.status_code == 422 and bad.json()["field"] == "urgent_reason"
    gone = await cto.client.post(f"{path}/withdraw", headers=headers)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    again = await cto.client.patch(path, headers=headers, json={"summary": "x"})
    assert again.status_code == 409 and again.json()["code"] == "request_closed"

    cto.clock.set(DEADLINE_1)
    late_path = f"/api/v1/cto-requests/{two['id']}"
    late = await cto.client.patch(late_path, headers=headers, json={"summary": "Trop tard"})
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    late = await cto.client.post(f"{late_path}/withdraw", headers=headers)
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"


async def test_submission_rules(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    (person,) = await cto.add_people(1)
    no_consent = await cto.submit(first["id"], person, consent=False)
    assert no_consent.status_code == 422 and no_consent.json()["field"] == "consent"
    unknown = await cto.submit(first["id"], person, thematics=["astrologie"])
    assert unknown.status_code == 400
    urgent = await cto.submit(first["id"], person, urgent=True)
    assert urgent.status_code == 422 and urgent.json()["field"] == "urgent_reason"


async def test_acknowledgement_and_the_72_hour_list(
    cto: Cto, jobs: JobContext, smtp: SmtpServer
) -> None:
    first = (await cto.sessions())[0]
    a, b = await cto.add_people(2)
    one = (await cto.submit(first["id"], a)).json()
    cto.clock.advance(timedelta(hours=1))
    two = (await cto.submit(first["id"], b)).json()
    overdue = f"/api/v1/cto-requests/overdue?territory_id={cto.s.territory_id}"
    assert (await cto.client.get(overdue, headers=cto.animator)).json() == []
    # A referent does not acknowledge.
    denied = await cto.client.post(
        f"/api/v1/cto-requests/{one['id']}/acknowledge", headers=cto.auth(cto.s.referent_ids[0])
    )
    assert denied.status_code == 403
    acked = await cto.client.post(
        f"/api/v1/cto-requests/{one['id']}/acknowledge", headers=cto.animator
    )
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_at"] is not None
    # Twice is once.
    await cto.client.post(f"/api/v1/cto-requests/{one['id']}/acknowledge", headers=cto.animator)
    await InProcessRunner(jobs, sweep_seconds=60).run_once()
    told = smtp.wait_for(1)
    assert len(smtp.messages) == 1 and told[0].rcpt_tos == ("referent0@laon.test",)
    assert "bien reçue" in told[0].message["Subject"]
    assert "Prénom0 Nom0" in told[0].message.get_body(("plain",)).get_content()

    cto.clock.advance(timedelta(hours=71, minutes=59))
    assert (await cto.client.get(overdue, headers=cto.animator)).json() == []
    cto.clock.advance(timedelta(minutes=2))
    late = (await cto.client.get(overdue, headers=cto.animator)).json()
    assert [r["id"] for r in late] == [two["id"]]
    referent = await cto.client.get(overdue, headers=cto.auth(cto.s.referent_ids[0]))
    assert referent.status_code == 403


async def test_who_reads_a_request(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    (person,) = await cto.add_people(1)
    mine = (await cto.submit(first["id"], person)).json()
    path = f"/api/v1/cto-requests/{mine['id']}"
    # The same structure (another referent) and the managers read it.
    for agent in (cto.s.referent_ids[1], cto.s.animator_id, cto.s.admin_id):
        assert (await cto.client.get(path, headers=cto.auth(agent))).status_code == 200
    # Another structure's referent and a partner get the 404 of an unknown id.
    for agent in (cto.other_referent_id, cto.partner_ids[0]):
        r = await cto.client.get(path, headers=cto.auth(agent))
        assert r.status_code == 404, r.text
        listed = await cto.client.get("/api/v1/cto-requests", headers=cto.auth(agent))
        assert listed.status_code == 200 and listed.json() == []
    agenda = await cto.client.get(
        f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.auth(cto.other_referent_id)
    )
    assert agenda.status_code == 404
    theirs = await cto.client.patch(
        path, headers=cto.auth(cto.other_referent_id), json={"summary": "x"}
    )
    assert theirs.status_code == 404
    # ... nor presents the first structure's person.
    stolen = await cto.submit(first["id"], person, referent=cto.other_referent_id)
    assert stolen.status_code == 404, stolen.text
    # The other structure's referent submits for its own structure, unseen by the first.
    (other_person,) = await cto.add_people(1, followed_by=cto.other_org_id)
    other = await cto.submit(first["id"], other_person, referent=cto.other_referent_id)
    assert other.status_code == 201 and other.json()["organisation_id"] == str(cto.other_org_id)
    listed = await cto.client.get("/api/v1/cto-requests", headers=cto.auth(cto.s.referent_ids[0]))
    assert [r["id"] for r in listed.json()] == [mine["id"]]
    everything = await cto.client.get("/api/v1/cto-requests", headers=cto.animator)
    assert len(everything.json()) == 2
    # A member who accepted the charter reads the agenda's fiches once it is frozen.
    cto.clock.set(DEADLINE_1)
    from rdv_spie.committees import cycle

    assert await cycle.freeze_due(cto.db, cto.clock) >= 1
    sworn = await cto.client.get(
        f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.auth(cto.partner_ids[0])
    )
    assert sworn.status_code == 200 and len(sworn.json()) == 2
    unsworn = await cto.client.get(
        f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.auth(cto.partner_ids[2])
    )
    assert unsworn.status_code == 404
    # A member who signed an earlier version of the charter reads no fiche until they accept
    # the current one (the portal asks them again).
    from rdv_spie.committees.models import CtoMember

    async with cto.db.unit_of_work(clock=cto.clock) as uow:
        await uow.session.execute(
            update(CtoMember)
            .where(CtoMember.agent_id == cto.partner_ids[0])
            .values(charter_version="1")
        )
    outdated = await cto.client.get(
        f"/api/v1/cto-sessions/{first['id']}/agenda", headers=cto.auth(cto.partner_ids[0])
    )
    assert outdated.status_code == 404


async def test_series_rules_and_rights(cto: Cto) -> None:
    base = {
        "territory_id": str(cto.s.territory_id),
        "organisation_id": str(cto.s.organisation_id),
        "name": "Chauny",
        "starts_on": "2026-12-11",
    }
    r = await cto.client.post(
        "/api/v1/cto-series", headers=cto.auth(cto.s.referent_ids[0]), json=base
    )
    assert r.status_code == 403
    r = await cto.client.post("/api/v1/cto-series", headers=cto.animator, json=base)
    assert r.status_code == 422 and r.json()["field"] == "place_id"
    bad_rule = {**base, "video_url": "https://visio.example.org/x", "rrule": "FREQ=HOURLY"}
    r = await cto.client.post("/api/v1/cto-series", headers=cto.animator, json=bad_rule)
    assert r.status_code == 422 and r.json()["field"] == "rrule"
    monthly = {**bad_rule, "rrule": "FREQ=MONTHLY;BYDAY=2FR", "capacity": 6}
    r = await cto.client.post("/api/v1/cto-series", headers=cto.animator, json=monthly)
    assert r.status_code == 201, r.text
    series = r.json()
    sessions = await cto.client.get(
        f"/api/v1/cto-series/{series['id']}/sessions", headers=cto.animator
    )
    days = [s["starts_at"][:10] for s in sessions.json()]
    assert days[:3] == ["2026-12-11", "2027-01-08", "2027-02-12"]
    # Generating again adds nothing.
    from rdv_spie.committees import cycle

    assert await cycle.generate_all(cto.db, cto.clock) == 0
    # A later freeze offset moves the freeze of sessions not yet frozen.
    patched = await cto.client.patch(
        f"/api/v1/cto-series/{series['id']}",
        headers=cto.animator,
        json={"deadline_days_before": 7},
    )
    assert patched.status_code == 200, patched.text
    again = await cto.client.get(
        f"/api/v1/cto-series/{series['id']}/sessions", headers=cto.animator
    )
    first = again.json()[0]
    assert first["deadline_at"].startswith("2026-12-04")
    # Members: agents of the territory only.
    stranger = await cto.client.post(
        f"/api/v1/cto-series/{series['id']}/members",
        headers=cto.animator,
        json={"agent_id": "00000000-0000-0000-0000-000000000001"},
    )
    assert stranger.status_code == 404
    charter = await cto.client.post(
        f"/api/v1/cto-series/{cto.series_id}/members/{cto.partner_ids[2]}/charter",
        headers=cto.animator,
        json={"accepted_on": "2026-12-01"},
    )
    assert charter.status_code == 200 and charter.json()["charter_accepted_on"] == "2026-12-01"


@pytest.mark.parametrize("field", ["person_id"])
async def test_a_person_of_another_territory_is_not_found(cto: Cto, field: str) -> None:
    first = (await cto.sessions())[0]
    r = await cto.submit(first["id"], cto.s.admin_id)  # an id that is no person
    assert r.status_code == 404 and r.json()["field"] == field


async def test_a_structure_presents_only_the_people_it_follows(cto: Cto) -> None:
    """A referent of two structures presents the other structure's person only in the name
    of that structure: asked for her first structure, the person and the journey are unknown
    (404); asked for the structure that follows them, the request is its own."""
    first = (await cto.sessions())[0]
    dual = cto.s.referent_ids[0]
    async with cto.db.unit_of_work(clock=cto.clock) as uow:
        uow.session.add(
            Membership(agent_id=dual, organisation_id=cto.other_org_id, role=Role.REFERENT)
        )
    (person,) = await cto.add_people(1, followed_by=cto.other_org_id)
    async with cto.db.unit_of_work(clock=cto.clock) as uow:
        journey = await uow.session.scalar(select(Journey.id).where(Journey.person_id == person))
    mine = str(cto.s.organisation_id)
    as_mine = await cto.submit(first["id"], person, organisation_id=mine)
    assert as_mine.status_code == 404, as_mine.text
    by_journey = await cto.submit(
        first["id"], person, organisation_id=mine, journey_id=str(journey)
    )
    assert by_journey.status_code == 404, by_journey.text
    assert by_journey.json()["field"] == "journey_id"
    as_theirs = await cto.submit(
        first["id"], person, organisation_id=str(cto.other_org_id), journey_id=str(journey)
    )
    assert as_theirs.status_code == 201, as_theirs.text
    assert as_theirs.json()["organisation_id"] == str(cto.other_org_id)
