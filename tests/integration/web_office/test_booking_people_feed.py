"""Booking on behalf of a person who called, the people to follow, the personal feed link."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import (
    Office,
    add_journey,
    body,
    book_journey,
    csrf,
    login,
    office_journey,
    post_form,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey
from rdv_spie.scheduling.models import Appointment

BOOK = "/agent/prise-de-rdv"
_SLOT = re.compile(r'href="(/agent/prise-de-rdv\?parcours=[^"]+&amp;debut=[^"]+)"')


def confirm_fields(page: str) -> dict[str, str]:
    """The hidden fields of the confirm form."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


async def test_booking_on_behalf_books_once_and_tells_the_person(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Moreau",
        appointment_by_on=date(2026, 12, 20),
    )
    await login(client, office.email)
    choose = await client.get(f"{BOOK}?q=more")
    assert "Camille Moreau" in body(choose)
    assert "Camille Moreau" not in body(await client.get(f"{BOOK}?q=dupont"))
    slots = await client.get(f"{BOOK}?parcours={journey}")
    assert slots.status_code == 200
    links = _SLOT.findall(slots.text)
    assert links, "no slot offered"
    confirm = await client.get(links[0].replace("&amp;", "&"))
    assert "Confirmer le rendez-vous" in body(confirm)
    fields = confirm_fields(confirm.text)
    assert fields["parcours"] == str(journey) and len(fields["cle"]) >= 16
    first = await client.post(BOOK, data=fields)
    second = await client.post(BOOK, data=fields)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    landed = await client.get(first.headers["location"])
    assert "Le rendez-vous est pris" in body(landed)
    assert "Camille Moreau" in body(landed)
    async with db.unit_of_work(clock=clock) as uow:
        booked = (
            await uow.session.scalars(select(Appointment).where(Appointment.journey_id == journey))
        ).all()
        assert len(booked) == 1
        assert booked[0].starts_at == datetime.fromisoformat(fields["debut"])
        assert booked[0].created_by_agent_id == office.s.referent_ids[0]
        names = (
            await uow.session.scalars(
                select(Notification.name).where(Notification.appointment_id == booked[0].id)
            )
        ).all()
        assert names.count("booking_confirmation") == 1
    # Booked: the person is no longer offered for booking.
    assert "Camille Moreau" not in body(await client.get(BOOK))


async def test_a_slot_taken_meanwhile_shows_fresh_slots(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Roussel",
        appointment_by_on=date(2026, 12, 20),
    )
    await login(client, office.email)
    slots = await client.get(f"{BOOK}?parcours={journey}")
    confirm = await client.get(_SLOT.findall(slots.text)[0].replace("&amp;", "&"))
    fields = confirm_fields(confirm.text)
    for referent in office.s.referent_ids:  # both referents get booked at that time
        taken = await client.post(
            "/api/v1/appointments/",
            json={
                "appointment_type_id": fields["motif"],
                "place_id": fields["lieu"],
                "starts_at": fields["debut"],
                "referent_id": str(referent),
                "person": {"first_name": "Autre", "last_name": "Personne"},
            },
            headers=office.s.auth(),
        )
        assert taken.status_code == 201, taken.text
    lost = await client.post(BOOK, data=fields)
    assert lost.status_code == 409
    assert "Ce créneau vient d'être réservé" in body(lost)
    fresh = _SLOT.findall(lost.text)
    assert fresh and all(
        fields["debut"] not in link.replace("%3A", ":").replace("%2B", "+") for link in fresh
    )
    async with db.unit_of_work(clock=clock) as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.journey_id == journey)
        )
        assert count == 0


async def test_people_to_follow(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s, me = office.s, office.s.referent_ids[0]

    async def journey(name: str, by: date, **kw: object) -> uuid.UUID:
        return await add_journey(
            db,
            clock,
            territory_id=kw.pop("territory_id", s.territory_id),  # type: ignore[arg-type]
            cohort_id=kw.pop("cohort_id", office.cohort_id),  # type: ignore[arg-type]
            last_name=name,
            appointment_by_on=by,
            **kw,  # type: ignore[arg-type]
        )

    await journey("Proche", date(2026, 12, 5), referent_id=me)
    await journey("Depassee", date(2026, 11, 28))
    await journey("Lointaine", date(2026, 12, 20), referent_id=me)
    locked = await journey("Bloquee", date(2026, 12, 4), locked=True)
    booked = await journey("Reservee", date(2026, 12, 4), referent_id=me)
    await journey(
        "Etrangere",
        date(2026, 12, 3),
        territory_id=office.other.territory_id,
        cohort_id=office.other_cohort_id,
    )
    response = await book_journey(client, s, booked)
    assert response.status_code == 201
    await login(client, office.email)
    page = body(await client.get("/agent/personnes"))
    mine, team = page.split("<h2>Mon équipe</h2>")
    assert "Camille Proche" in mine
    assert "Camille Depassee" in team and "(dépassé)" in team
    assert "Camille Bloquee" in team
    for absent in ("Lointaine", "Reservee", "Etrangere"):
        assert absent not in page
    assert page.count("Débloquer le lien") == 1
    unlocked = await post_form(
        client, f"/agent/parcours/{locked}/deblocage", {}, token_from="/agent/personnes"
    )
    assert unlocked.status_code == 303
    assert "Le lien est débloqué" in body(await client.get(unlocked.headers["location"]))
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Journey, locked)
        assert row is not None
        assert row.identity_failures == 0 and row.identity_locked_at is None


async def test_a_new_feed_link_revokes_the_old_one(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    assert "Vous n'avez pas de lien en service" in body(await client.get("/agent/calendrier"))
    urls = []
    for _ in range(2):
        page = await client.get("/agent/calendrier")
        created = await client.post("/agent/calendrier", data={"csrf_token": csrf(page.text)})
        assert created.status_code == 200
        found = re.search(r'value="https?://[^/"]+(/feeds/[^"]+\.ics)"', created.text)
        assert found
        urls.append(found.group(1))
    assert urls[0] != urls[1]
    assert (await client.get(urls[0])).status_code == 404
    assert (await client.get(urls[1])).status_code == 200
    status = body(await client.get("/agent/calendrier"))
    assert "Un lien fonctionne depuis le" in status
    assert urls[1] not in status  # shown once, at creation only
    assert "expire le mercredi 1er décembre 2027" in status  # 365 days after the suite's day


async def test_one_booked_appointment_per_journey_and_links_kept(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """The agent's confirm step is open when the person books online: the agent's booking is
    refused (nothing written); the API refuses a second one too. A booking from the back office
    keeps the person's links valid until the appointment has passed and ends the wait for
    slots."""
    journey = await office_journey(
        db,
        clock,
        office,
        last_name="Moreau",
        appointment_by_on=date(2026, 12, 20),
    )
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Journey, journey)
        assert row is not None
        row.waiting_for_slots_since = clock.now()
        invitation = Invitation(
            journey_id=journey,
            channel=Channel.SMS,
            token_hash=uuid.uuid4().hex * 2,
            expires_at=clock.now(),
        )
        uow.session.add(invitation)
    await login(client, office.email)
    links = _SLOT.findall((await client.get(f"{BOOK}?parcours={journey}")).text)
    first = confirm_fields((await client.get(links[0].replace("&amp;", "&"))).text)
    second = confirm_fields((await client.get(links[-1].replace("&amp;", "&"))).text)
    assert first["debut"] != second["debut"]

    booked = await client.post(BOOK, data=first)  # e.g. the person, online, a moment earlier
    assert booked.status_code == 303
    again = await client.post(BOOK, data=second)  # another key, another slot
    assert again.status_code == 409
    assert "déjà un rendez-vous à venir" in body(again)
    api = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": first["motif"],
            "place_id": first["lieu"],
            "starts_at": second["debut"],
            "journey_id": str(journey),
        },
        headers=office.s.auth(),
    )
    assert api.status_code == 409 and api.json()["code"] == "already_booked"
    async with db.unit_of_work(clock=clock) as uow:
        appointments = (
            await uow.session.scalars(select(Appointment).where(Appointment.journey_id == journey))
        ).all()
        assert len(appointments) == 1
        kept = await uow.session.get(Invitation, invitation.id)
        assert kept is not None and kept.expires_at == appointments[0].ends_at
        row = await uow.session.get(Journey, journey)
        assert row is not None and row.waiting_for_slots_since is None
