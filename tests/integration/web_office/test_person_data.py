"""Personal data on request (issue 18 item 4), on both engines: an admin of the person's
territory exports everything held about them (JSON in the API and on the page, a readable
page), each export written to the read trail; and erases them on request with a reason: the
purge's erasure (no canary left anywhere in the export), coming appointments revoked, waiting
messages cancelled, who/when/why kept; twice is a 409. Animators, referents and another
territory are refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
from litestar import Litestar
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, csrf, login, set_password
from tests.integration.web_public import browsing as b

from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

CANARY = "Zygomatiqueffacee"
PHONE = "+33677665544"
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


async def _person(db: Database, clock: FrozenClock, app: Litestar, office: Office) -> b.Invited:
    s = office.s
    invited = await b.invite(db, clock, app, s, office.cohort_id, last_name=CANARY, phone=PHONE)
    async with db.unit_of_work(clock=clock) as uow:
        await outbox.add(
            uow,
            territory_id=s.territory_id,
            name="invitation",
            channel="sms",
            key=f"test:{invited.journey_id}",
            not_before=clock.now(),
            person_id=invited.person_id,
            journey_id=invited.journey_id,
        )
    return invited


async def _reads(db: Database, clock: FrozenClock, person_id: uuid.UUID, what: str) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = await uow.session.scalar(
            select(func.count())
            .select_from(FileRead)
            .where(FileRead.person_id == person_id, FileRead.what == what)
        )
    return found or 0


async def test_export_then_erase_through_the_api(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar, office: Office
) -> None:
    s = office.s
    invited = await _person(db, clock, app, office)
    booked = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WED_0900.isoformat(),
            "journey_id": str(invited.journey_id),
        },
    )
    assert booked.status_code == 201, booked.text
    url = f"/api/v1/people/{invited.person_id}"

    # Refused to an animator, a referent and another territory's admin; nothing recorded.
    for headers, status in (
        (s.auth(s.animator_id), 403),
        (s.auth(s.referent_ids[0]), 403),
        (office.other.auth(), 404),
    ):
        assert (await client.get(f"{url}/export", headers=headers)).status_code == status
        refused = await client.post(f"{url}/erase", headers=headers, json={"reason": "x"})
        assert refused.status_code == status
    assert await _reads(db, clock, invited.person_id, "export") == 0

    exported = await client.get(f"{url}/export", headers=s.auth())
    assert exported.status_code == 200, exported.text
    held = exported.json()
    assert held["identity"]["last_name"] == CANARY and held["identity"]["phone"] == PHONE
    assert [j["cohort"] for j in held["journeys"]] == ["Jeunes 18-30 ans"]
    assert [a["status"] for a in held["appointments"]] == ["booked"]
    kinds = {(m["kind"], m["channel"]) for m in held["messages"]}
    assert kinds == {("invitation", "sms"), ("booking_confirmation", "sms")}
    assert held["erasure"] is None
    assert await _reads(db, clock, invited.person_id, "export") == 1

    empty = await client.post(f"{url}/erase", headers=s.auth(), json={"reason": "   "})
    assert empty.status_code == 422 and empty.json()["field"] == "reason"
    done = await client.post(
        f"{url}/erase", headers=s.auth(), json={"reason": "Demande écrite du 3 décembre"}
    )
    assert done.status_code == 200, done.text
    assert await _reads(db, clock, invited.person_id, "erasure") == 1
    again = await client.post(f"{url}/erase", headers=s.auth(), json={"reason": "Encore"})
    assert again.status_code == 409

    after = await client.get(f"{url}/export", headers=s.auth())
    text = after.text
    assert CANARY not in text and PHONE not in text
    assert after.json()["erasure"]["reason"] == "Demande écrite du 3 décembre"
    assert after.json()["identity"]["purged_at"] is not None
    async with db.unit_of_work(clock=clock, write=False) as uow:
        appointment = await uow.session.get(Appointment, uuid.UUID(booked.json()["id"]))
        assert appointment is not None and appointment.status == AppointmentStatus.REVOKED
        waiting = await uow.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.journey_id == invited.journey_id,
                Notification.status == NotificationStatus.PENDING,
            )
        )
    assert waiting == 0


async def test_the_page_shows_exports_and_erases(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar, office: Office
) -> None:
    invited = await _person(db, clock, app, office)
    page = f"/agent/administration/personnes/{invited.person_id}"
    # A referent: 403 (administration is the admins').
    assert (await login(client, office.email)).status_code == 303
    assert (await client.get(page)).status_code == 403
    client.cookies.clear()
    assert (
        await login(client, await set_password(db, clock, office.s.admin_id))
    ).status_code == 303
    trail = await client.get(
        "/agent/administration/consultations", params={"personne": str(invited.person_id)}
    )
    assert page in trail.text  # the trail links to the person's data
    shown = await client.get(page)
    assert shown.status_code == 200 and CANARY in body(shown) and PHONE in body(shown)
    as_json = await client.get(page, params={"format": "json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert "attachment" in as_json.headers["content-disposition"]
    assert json.loads(as_json.text)["identity"]["last_name"] == CANARY

    token = csrf(shown.text)
    unticked = await client.post(
        f"{page}/effacement", data={"csrf_token": token, "reason": "Demande orale"}
    )
    assert unticked.status_code == 422 and "Cochez la case" in body(unticked)
    no_reason = await client.post(
        f"{page}/effacement", data={"csrf_token": token, "reason": "", "confirm": "oui"}
    )
    assert no_reason.status_code == 422 and "Indiquez pourquoi" in body(no_reason)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        from rdv_spie.people.models import Person

        person = await uow.session.get(Person, invited.person_id)
        assert person is not None and person.purged_at is None  # nothing half-written
    erased = await client.post(
        f"{page}/effacement",
        data={"csrf_token": token, "reason": "Demande orale du 4 décembre", "confirm": "oui"},
    )
    assert erased.status_code == 303
    after = await client.get(erased.headers["location"])
    text = body(after)
    assert "Les données de la personne sont effacées" in text
    assert "Demande orale du 4 décembre" in text
    assert CANARY not in text and PHONE not in text
