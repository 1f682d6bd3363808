"""Choosing and booking on the public pages: the soonest slots first (nearest places first),
then a day or a place, the next availability, booking end to end with its .ics, a double
submission, the no-slot page and its alert, two people racing for one slot."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select, update
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey
from rdv_spie.scheduling import messages as scheduling_messages
from rdv_spie.scheduling.models import Absence, AppointmentStatus
from rdv_spie.territories.models import Place

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


async def _places(db: Database, clock: FrozenClock, s: sc.Scenario) -> None:
    """Lieu 0 in Amiens (80), Lieu 1 in Saint-Quentin (02), Lieu 2 in Laon (02000)."""
    where = [("80000", "Amiens"), ("02100", "Saint-Quentin"), ("02000", "Laon")]
    async with db.unit_of_work(clock=clock) as uow:
        for place_id, (postcode, city) in zip(s.place_ids, where, strict=True):
            await uow.session.execute(
                update(Place).where(Place.id == place_id).values(postcode=postcode, city=city)
            )


def _order(page: str) -> list[str]:
    cards = page.split('<ul class="places">', 1)[1].split("</ul>", 1)[0]
    return [
        line.split("<strong>")[1].split(" (")[0]
        for line in cards.splitlines()
        if "<strong>" in line
    ]


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("02000", ["Lieu 2", "Lieu 1", "Lieu 0"]),  # same postcode, same département, the rest
        ("80090", ["Lieu 0", "Lieu 1", "Lieu 2"]),  # Amiens first, then by name
        (None, ["Lieu 0", "Lieu 1", "Lieu 2"]),  # unknown: by name
    ],
)
async def test_places_nearest_first(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    postcode: str | None,
    expected: list[str],
) -> None:
    s = await sc.build(db, clock, places=3)
    await _places(db, clock, s)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s), postcode=postcode)
    await b.verified(client, invited.token)
    page = await client.get("/rdv/creneaux")
    assert page.status_code == 200
    assert _order(page.text) == expected
    # The soonest slots come nearest place first, each place in turn (one of each day first).
    ids = {f"Lieu {i}": str(place_id) for i, place_id in enumerate(s.place_ids)}
    shown = b.slot_choices(page.text)
    assert len(shown) == 5
    assert [lieu for _, lieu in shown] == [
        ids[expected[0]],
        ids[expected[0]],
        ids[expected[1]],
        ids[expected[1]],
        ids[expected[2]],
    ]
    # One place only: its slots alone, and the filter survives choosing a day.
    only = await client.get(f"/rdv/creneaux?lieu={s.place_ids[2]}")
    links = b.slot_links(only.text)
    assert links and all(f"lieu={s.place_ids[2]}" in link for link in links)
    assert f'<input type="hidden" name="lieu" value="{s.place_ids[2]}">' in only.text
    # Lieu 2 opens on Wednesdays only: the days offered are its days.
    assert b.day_options(only.text) == ["2026-12-02", "2026-12-09", "2026-12-16"]
    wednesday = await client.get(f"/rdv/creneaux?jour=2026-12-09&lieu={s.place_ids[2]}")
    assert all(f"lieu={s.place_ids[2]}" in link for link in b.slot_links(wednesday.text))
    assert f'href="/rdv/creneaux?jour=2026-12-16&amp;lieu={s.place_ids[2]}"' in wednesday.text
    assert f'href="/rdv/creneaux?jour=2026-12-02&amp;lieu={s.place_ids[2]}"' in wednesday.text


async def test_soonest_slots_first_then_a_day(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, invited.token)

    # Five slots, not a week of them: the first of each of the next five days with slots.
    first = await client.get("/rdv/creneaux")
    assert "Les premiers horaires libres" in first.text
    assert [debut for debut, _ in b.slot_choices(first.text)] == [
        "2026-12-01T09:00Z",  # Tuesday 10h: one hour's notice from 9h
        "2026-12-02T08:00Z",
        "2026-12-03T08:00Z",
        "2026-12-04T08:00Z",
        "2026-12-07T08:00Z",
    ]
    assert "Mardi 1er décembre à 10h" in first.text
    # Every working day of the delay can be chosen, up to Friday 18 December.
    days = b.day_options(first.text)
    assert days[0] == "2026-12-01" and days[-1] == "2026-12-18" and len(days) == 14
    assert "2026-12-05" not in days  # a Saturday

    # One day: all its slots, and the days either side.
    wednesday = await client.get("/rdv/creneaux?jour=2026-12-02")
    assert "Mercredi 2 décembre" in wednesday.text
    starts = [debut for debut, _ in b.slot_choices(wednesday.text)]
    assert starts[0] == "2026-12-02T08:00Z" and starts[-1] == "2026-12-02T10:15Z"
    assert len(starts) == 10 and all(d.startswith("2026-12-02T") for d in starts)
    assert 'href="/rdv/creneaux?jour=2026-12-01"' in wednesday.text
    assert 'href="/rdv/creneaux?jour=2026-12-03"' in wednesday.text
    assert '<option value="2026-12-02" selected>' in wednesday.text
    # The confirm step goes back to the slot's day.
    confirm = await client.get(b.slot_links(wednesday.text)[3])
    assert 'href="/rdv/creneaux?jour=2026-12-02"' in confirm.text


async def test_days_and_next_availability(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:  # nobody works the week of 7 December
        for referent in s.referent_ids:
            uow.session.add(
                Absence(
                    agent_id=referent, starts_at=paris(2026, 12, 7), ends_at=paris(2026, 12, 12)
                )
            )
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, invited.token)

    first = await client.get("/rdv/creneaux")
    links = b.slot_links(first.text)
    # Tuesday 09:00 Paris now, one hour's notice: 10h first, on the 15-minute grid.
    assert links[0] == f"/rdv/creneaux/confirmer?debut=2026-12-01T09:00Z&lieu={s.place_ids[0]}"
    assert [debut[:10] for debut, _ in b.slot_choices(first.text)] == [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-14",
    ]
    assert not any(d.startswith("2026-12-0" + n) for d in b.day_options(first.text) for n in "789")

    tuesday = await client.get("/rdv/creneaux?jour=2026-12-01")
    assert not any("debut=2026-12-01T08:" in link for link in b.slot_links(tuesday.text))
    assert "Jour précédent" not in tuesday.text

    empty = await client.get("/rdv/creneaux?jour=2026-12-09")
    assert "Mercredi 9 décembre" in empty.text
    assert "Aucun horaire libre ce jour-là" in empty.text and not b.slot_links(empty.text)
    assert "Prochaine disponibilité : lundi 14 décembre à 9h" in empty.text
    assert 'href="/rdv/creneaux?jour=2026-12-14"' in empty.text
    assert 'href="/rdv/creneaux?jour=2026-12-04"' in empty.text  # the day before with slots

    last = await client.get("/rdv/creneaux?jour=2026-12-18")
    assert "Vendredi 18 décembre" in last.text  # the last day of the delay
    assert b.slot_links(last.text)
    assert "Jour suivant" not in last.text and "Prochaine disponibilité" not in last.text
    # Beyond the delay, before today or garbage: kept in range, or the soonest slots.
    assert "Vendredi 18 décembre" in (await client.get("/rdv/creneaux?jour=2027-03-01")).text
    assert "Mardi 1er décembre" in (await client.get("/rdv/creneaux?jour=2026-11-02")).text
    garbage = await client.get("/rdv/creneaux?jour=xyz")
    assert garbage.status_code == 200 and "Les premiers horaires libres" in garbage.text


async def _confirmations(
    db: Database, clock: FrozenClock, journey_id: uuid.UUID
) -> list[tuple[uuid.UUID | None, str, dict[str, Any]]]:
    """(appointment, channel, params) of every confirmation queued for the journey."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.appointment_id, Notification.channel, Notification.params)
            .where(
                Notification.journey_id == journey_id,
                Notification.name == scheduling_messages.CONFIRMATION,
            )
            .order_by(Notification.created_at, Notification.channel)
        )
        return [(a, c, p) for a, c, p in rows]


async def test_booking_end_to_end(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    cohort = await b.cohort(db, clock, s)
    invited = await b.invite(
        db, clock, app, s, cohort, expires_at=clock.now() + timedelta(minutes=30)
    )
    await b.verified(client, invited.token)
    slots = await client.get("/rdv/creneaux")
    confirm = await client.get(b.slot_links(slots.text)[0])
    assert "Confirmez votre rendez-vous" in confirm.text
    assert "Mardi 1er décembre 2026" in confirm.text and "10h" in confirm.text
    assert "0 rue de l&#39;Exemple" in confirm.text
    assert not await b.appointments(db, clock, invited.journey_id)  # GET books nothing

    done = await client.post("/rdv/creneaux/confirmer", data=b.hidden_fields(confirm.text))
    assert done.status_code == 303 and done.headers["location"] == "/rdv/confirmation"
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.starts_at == paris(2026, 12, 1, 10)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        invitation = await uow.session.get(Invitation, invited.invitation_id)
        assert invitation is not None and invitation.expires_at == appointment.ends_at

    page = await client.get("/rdv/confirmation")
    assert "Votre rendez-vous est confirmé" in page.text
    assert "Mardi 1er décembre 2026" in page.text and "10h" in page.text
    assert "Une pièce d&#39;identité" in page.text  # the default "what to bring"

    ics = await client.get("/rdv/rendez-vous.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.headers["content-disposition"] == 'attachment; filename="rendez-vous.ics"'
    body = ics.text.replace("\r\n ", "")
    assert f"UID:appointment-{appointment.id}@rdv-spie" in body
    assert "DTSTART;TZID=Europe/Paris:20261201T100000" in body
    assert "LOCATION:Lieu 0\\, 0 rue de l'Exemple\\, 02000 Laon" in body

    # Coming back later through the link lands on the appointment; no second booking.
    async with b.browser(app) as later:
        await b.verified(later, invited.token)
        assert (await later.get("/rdv")).headers["location"] == "/rdv/confirmation"
        assert (await later.get("/rdv/creneaux")).headers["location"] == "/rdv/confirmation"
    # One confirmation is queued for the person, for this booking, on their one channel
    # (SMS), whatever the pages visited afterwards.
    assert await _confirmations(db, clock, invited.journey_id) == [
        (appointment.id, "sms", {"sequence": 0})
    ]


async def test_double_submission_books_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, invited.token)
    slots = await client.get("/rdv/creneaux")
    confirm = await client.get(b.slot_links(slots.text)[1])
    fields = b.hidden_fields(confirm.text)
    first = await client.post("/rdv/creneaux/confirmer", data=fields)
    again = await client.post("/rdv/creneaux/confirmer", data=fields)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == "/rdv/confirmation"
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert await _confirmations(db, clock, invited.journey_id) == [
        (appointment.id, "sms", {"sequence": 0})
    ]


async def test_no_slot_left(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    # The delay ends today at midnight and today's hours are all taken by an absence.
    async with db.unit_of_work(clock=clock) as uow:
        for referent in s.referent_ids:
            uow.session.add(
                Absence(agent_id=referent, starts_at=paris(2026, 12, 1), ends_at=paris(2026, 12, 2))
            )
    invited = await b.invite(
        db, clock, app, s, await b.cohort(db, clock, s), appointment_by=clock.now().date()
    )
    await b.verified(client, invited.token)
    for _ in range(2):
        page = await client.get("/rdv/creneaux")
        assert page.status_code == 200
        assert "Il n'y a plus d'horaire libre en ligne" in page.text
        assert 'href="tel:0199000000"' in page.text and "01 99 00 00 00" in page.text
        assert not b.slot_links(page.text)
    alerts = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.name == "animator_no_slots_alert", Notification.agent_id == s.animator_id
        )
    )
    assert await b.count(db, clock, alerts) == 1  # once a day per cohort
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, invited.journey_id)
        assert journey is not None and journey.waiting_for_slots_since == clock.now()
    # A forged confirm step for a slot outside the delay books nothing.
    forged = await client.get(
        f"/rdv/creneaux/confirmer?debut=2026-12-02T09:00Z&lieu={s.place_ids[0]}"
    )
    assert "Il n'y a plus d'horaire libre" in forged.text
    r = await client.post(
        "/rdv/creneaux/confirmer",
        data={
            "csrf_token": b.csrf_for(app, client),
            "debut": "2026-12-02T09:00Z",
            "lieu": str(s.place_ids[0]),
            "cle": "x" * 20,
        },
    )
    assert r.status_code == 422  # refused: the slot is past the delay
    assert not await b.appointments(db, clock, invited.journey_id)


async def test_two_people_race_for_one_slot(
    db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock, referents=1)
    cohort = await b.cohort(db, clock, s)
    people = [
        (await b.invite(db, clock, app, s, cohort, last_name=name), name[:3])
        for name in ("Dupont", "Durand")
    ]
    async with b.browser(app) as one, b.browser(app) as two:
        forms = []
        for browser, (person, letters) in zip((one, two), people, strict=True):
            await b.verified(browser, person.token, letters)
            slots = await browser.get("/rdv/creneaux")
            confirm = await browser.get(b.slot_links(slots.text)[0])
            forms.append(b.hidden_fields(confirm.text))
        assert forms[0]["debut"] == forms[1]["debut"]
        answers = await asyncio.gather(
            one.post("/rdv/creneaux/confirmer", data=forms[0]),
            two.post("/rdv/creneaux/confirmer", data=forms[1]),
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [303, 409]
    lost = next(r for r in answers if r.status_code == 409)
    assert "Ce créneau vient d'être réservé. Choisissez un autre horaire." in lost.text
    fresh = b.slot_links(lost.text)
    assert fresh and all(f"debut={forms[0]['debut']}&" not in link for link in fresh)
    booked = [a for p, _ in people for a in await b.appointments(db, clock, p.journey_id)]
    assert len(booked) == 1


async def test_two_tabs_book_one_appointment(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, invited.token)
    links = b.slot_links((await client.get("/rdv/creneaux")).text)
    forms = [b.hidden_fields((await client.get(link)).text) for link in (links[0], links[4])]
    assert forms[0]["cle"] != forms[1]["cle"]
    answers = await asyncio.gather(
        *(client.post("/rdv/creneaux/confirmer", data=form) for form in forms)
    )
    assert [r.status_code for r in answers] == [303, 303]
    assert len(await b.appointments(db, clock, invited.journey_id)) == 1
