"""Cancelling and moving from the public pages, while before the type's cut-offs (cancel 4 h,
move 48 h by default); a type that forbids cancelling online shows the phone number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import AppointmentStatus, AppointmentType
from rdv_spie.territories.models import Place, PlaceKind

PARIS = ZoneInfo("Europe/Paris")
# Monday 7 December 2026, 09:00 in Paris: the first slot of the week after the suite's "now".
MONDAY_9H = datetime(2026, 12, 7, 9, tzinfo=PARIS).astimezone(UTC)


async def _book_monday(client: httpx.AsyncClient) -> None:
    week = await client.get("/rdv/creneaux?jour=2026-12-07")
    confirm = await client.get(b.slot_links(week.text)[0])
    done = await client.post("/rdv/creneaux/confirmer", data=b.hidden_fields(confirm.text))
    assert done.status_code == 303


@pytest.fixture
async def booked(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> b.Invited:
    s = await sc.build(db, clock)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, invited.token)
    await _book_monday(client)
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.starts_at == MONDAY_9H
    return invited


async def test_links_follow_the_cut_offs(
    client: httpx.AsyncClient, booked: b.Invited, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    page = await client.get("/rdv/confirmation")
    assert 'href="/rdv/deplacer"' in page.text and 'href="/rdv/annuler"' in page.text

    # 47 hours before: too late to move online, still time to cancel.
    clock.set(MONDAY_9H - timedelta(hours=47))
    async with b.browser(app) as later:
        await b.verified(later, booked.token)  # the link still works (extended to the end)
        page = await later.get("/rdv/confirmation")
        assert 'href="/rdv/deplacer"' not in page.text and 'href="/rdv/annuler"' in page.text
        assert "Il est trop tard pour changer l'horaire en ligne" in page.text
        assert (await later.get("/rdv/deplacer")).headers["location"] == "/rdv/confirmation"
        week = await later.get("/rdv/creneaux?jour=2026-12-07")
        assert week.headers["location"] == "/rdv/confirmation"
        moved = await later.post(
            "/rdv/deplacer/confirmer",
            data={
                "csrf_token": b.csrf_for(app, later),
                "debut": "2026-12-08T08:00Z",
                "lieu": str(booked.s.place_ids[0]),
            },
        )
        assert moved.status_code == 303
    [appointment] = await b.appointments(db, clock, booked.journey_id)
    assert appointment.starts_at == MONDAY_9H and appointment.sequence == 0

    # 3 hours before: neither; the phone number instead; a forced POST is refused.
    clock.set(MONDAY_9H - timedelta(hours=3))
    async with b.browser(app) as late:
        await b.verified(late, booked.token)
        page = await late.get("/rdv/confirmation")
        assert 'href="/rdv/deplacer"' not in page.text and 'href="/rdv/annuler"' not in page.text
        assert "Il est trop tard pour changer ou annuler en ligne" in page.text
        assert 'href="tel:0199000000"' in page.text
        assert (await late.get("/rdv/annuler")).headers["location"] == "/rdv/confirmation"
        refused = await late.post("/rdv/annuler", data={"csrf_token": b.csrf_for(app, late)})
        assert refused.status_code == 409 and "trop tard pour annuler" in refused.text
    [appointment] = await b.appointments(db, clock, booked.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED


async def test_cancel(
    client: httpx.AsyncClient, booked: b.Invited, db: Database, clock: FrozenClock
) -> None:
    ask = await client.get("/rdv/annuler")
    assert ask.status_code == 200 and "Annuler votre rendez-vous ?" in ask.text
    done = await client.post("/rdv/annuler", data=b.hidden_fields(ask.text))
    assert done.status_code == 303 and done.headers["location"] == "/rdv/annulation"
    [appointment] = await b.appointments(db, clock, booked.journey_id)
    assert appointment.status == AppointmentStatus.CANCELLED
    page = await client.get("/rdv/annulation")
    assert "Votre rendez-vous est annulé" in page.text and 'href="/rdv/creneaux"' in page.text
    # The freed slot is offered again, and the person may book another one.
    assert (await client.get("/rdv")).headers["location"] == "/rdv/creneaux"
    week = await client.get("/rdv/creneaux?jour=2026-12-07")
    assert "debut=2026-12-07T08:00Z" in b.slot_links(week.text)[0]
    await _book_monday(client)
    assert len(await b.appointments(db, clock, booked.journey_id)) == 2


async def test_move(
    client: httpx.AsyncClient, booked: b.Invited, db: Database, clock: FrozenClock
) -> None:
    [before] = await b.appointments(db, clock, booked.journey_id)
    slots = await client.get("/rdv/deplacer")
    assert "Changer l'horaire de votre rendez-vous" in slots.text
    assert "Votre rendez-vous actuel" in slots.text
    assert 'href="/rdv/confirmation">Garder mon rendez-vous actuel' in slots.text
    monday = await client.get("/rdv/deplacer?jour=2026-12-07")
    links = b.slot_links(monday.text)
    assert links and all(link.startswith("/rdv/deplacer/confirmer?") for link in links)
    assert not any("debut=2026-12-07T08:00Z&" in link for link in links)  # its own slot
    tuesday = await client.get("/rdv/deplacer?jour=2026-12-08")
    target = next(link for link in b.slot_links(tuesday.text) if "debut=2026-12-08T09:00Z" in link)
    confirm = await client.get(target)
    assert "Confirmez le nouvel horaire" in confirm.text
    fields = b.hidden_fields(confirm.text)
    for _ in range(2):  # a double submission moves once
        done = await client.post("/rdv/deplacer/confirmer", data=fields)
        assert done.status_code == 303 and done.headers["location"] == "/rdv/confirmation"
    [after] = await b.appointments(db, clock, booked.journey_id)
    assert after.id == before.id and after.sequence == 1
    assert after.starts_at == datetime(2026, 12, 8, 9, tzinfo=UTC)
    page = await client.get("/rdv/confirmation")
    assert "Mardi 8 décembre 2026" in page.text and "10h" in page.text


async def test_type_without_online_cancel_shows_the_phone(
    client: httpx.AsyncClient, booked: b.Invited, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(AppointmentType)
            .where(AppointmentType.id == booked.s.single_type_id)
            .values(online_cancel=False, what_to_bring="Votre livret de famille.")
        )
    page = await client.get("/rdv/confirmation")
    assert 'href="/rdv/annuler"' not in page.text and 'href="/rdv/deplacer"' in page.text
    assert "Ce rendez-vous est obligatoire : pour l'annuler, appelez" in page.text
    assert 'href="tel:0199000000"' in page.text
    assert "Votre livret de famille." in page.text
    assert (await client.get("/rdv/annuler")).headers["location"] == "/rdv/confirmation"
    refused = await client.post("/rdv/annuler", data={"csrf_token": b.csrf_for(app, client)})
    assert refused.status_code == 409
    [appointment] = await b.appointments(db, clock, booked.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED


async def test_remote_places_say_how(
    client: httpx.AsyncClient, booked: b.Invited, db: Database, clock: FrozenClock
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Place).where(Place.id == booked.s.place_ids[0]).values(kind=PlaceKind.PHONE)
        )
    page = await client.get("/rdv/confirmation")
    assert "Par téléphone. On vous appelle." in page.text
    assert "rue de l" not in page.text
    assert "Gardez votre téléphone chargé" in page.text
    ics = (await client.get("/rdv/rendez-vous.ics")).text
    assert "DTSTART;TZID=Europe/Paris:20261207T090000" in ics


async def test_move_to_a_slot_just_taken(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock, referents=1)
    cohort = await b.cohort(db, clock, s)
    mover = await b.invite(db, clock, app, s, cohort)
    other = await b.invite(db, clock, app, s, cohort, last_name="Martin")
    await b.verified(client, mover.token)
    await _book_monday(client)
    slots = await client.get("/rdv/deplacer?jour=2026-12-08")
    target = next(link for link in b.slot_links(slots.text) if "2026-12-08T09:00Z" in link)
    fields = b.hidden_fields((await client.get(target)).text)
    async with b.browser(app) as quicker:
        await b.verified(quicker, other.token, "mar")
        confirm = await quicker.get(target.replace("/rdv/deplacer/", "/rdv/creneaux/"))
        done = await quicker.post("/rdv/creneaux/confirmer", data=b.hidden_fields(confirm.text))
        assert done.status_code == 303
    lost = await client.post("/rdv/deplacer/confirmer", data=fields)
    assert lost.status_code == 409
    assert "Ce créneau vient d'être réservé. Choisissez un autre horaire." in lost.text
    assert "Changer l'horaire de votre rendez-vous" in lost.text
    fresh = b.slot_links(lost.text)
    assert fresh and all(link.startswith("/rdv/deplacer/") for link in fresh)
    assert not any("2026-12-08T09:00Z" in link for link in fresh)
    [kept] = await b.appointments(db, clock, mover.journey_id)
    assert kept.starts_at == MONDAY_9H and kept.sequence == 0
