"""A phone appointment for someone without a number on file: the confirm step asks for the
number to call (checked with phonenumbers, kept in E.164 on the person in the booking's
transaction); a missing or wrong number shows the form again with its error, nothing booked."""

from __future__ import annotations

import uuid

import httpx
from litestar import Litestar
from sqlalchemy import update
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import AppointmentStatus
from rdv_spie.territories.models import Place, PlaceKind


async def _by_phone(db: Database, clock: FrozenClock, place_id: uuid.UUID) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Place)
            .where(Place.id == place_id)
            .values(kind=PlaceKind.PHONE, name="Par téléphone", address=None)
        )


async def _phone_of(db: Database, clock: FrozenClock, person_id: uuid.UUID) -> str | None:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        person = await uow.session.get(Person, person_id)
        assert person is not None
        return person.phone


async def test_a_phone_appointment_asks_for_the_number(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    await _by_phone(db, clock, s.place_ids[0])
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s), phone=None)
    await b.verified(client, invited.token)
    slots = await client.get("/rdv/creneaux")
    assert "nous vous demanderons votre numéro" in slots.text
    confirm = await client.get(b.slot_links(slots.text)[4])  # Monday 7 December: movable
    assert 'type="tel" id="telephone" name="telephone"' in confirm.text
    assert '<label for="telephone">Votre numéro de téléphone</label>' in confirm.text
    fields = b.hidden_fields(confirm.text)

    # Empty, then wrong: the form again, its error beside the field and in the summary.
    for typed, error in [("", "Ce champ est vide."), ("06 12", "Ce numéro n'est pas valable.")]:
        again = await client.post("/rdv/creneaux/confirmer", data={**fields, "telephone": typed})
        assert again.status_code == 422
        assert error in again.text
        assert '<a class="standalone" href="#telephone">' in again.text  # the summary's entry
        assert 'aria-invalid="true"' in again.text
        assert f'value="{typed}"' in again.text  # what was typed stays
        assert b.hidden_fields(again.text)["debut"] == fields["debut"]
        assert not await b.appointments(db, clock, invited.journey_id)
        assert await _phone_of(db, clock, invited.person_id) is None

    done = await client.post(
        "/rdv/creneaux/confirmer", data={**fields, "telephone": "06 12 34 56 78"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/rdv/confirmation"
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED
    assert await _phone_of(db, clock, invited.person_id) == "+33612345678"

    # The number is on file now: moving to another phone slot asks nothing.
    tuesday = await client.get("/rdv/deplacer?jour=2026-12-08")
    move = await client.get(b.slot_links(tuesday.text)[0])
    assert 'name="telephone"' not in move.text


async def test_no_question_with_a_number_on_file_or_at_an_address(
    db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock, places=2)
    await _by_phone(db, clock, s.place_ids[1])
    cohort = await b.cohort(db, clock, s)
    with_number = await b.invite(db, clock, app, s, cohort)
    without = await b.invite(db, clock, app, s, cohort, last_name="Martin", phone=None)
    async with b.browser(app) as one, b.browser(app) as two:
        await b.verified(one, with_number.token)
        page = await one.get(f"/rdv/creneaux?lieu={s.place_ids[1]}")
        assert "nous vous demanderons" not in page.text
        confirm = await one.get(b.slot_links(page.text)[0])
        assert 'name="telephone"' not in confirm.text

        await b.verified(two, without.token, "mar")
        page = await two.get(f"/rdv/creneaux?lieu={s.place_ids[0]}")
        confirm = await two.get(b.slot_links(page.text)[0])
        assert 'name="telephone"' not in confirm.text  # at an address, no number needed
        done = await two.post("/rdv/creneaux/confirmer", data=b.hidden_fields(confirm.text))
        assert done.status_code == 303
    assert await _phone_of(db, clock, without.person_id) is None


async def test_a_lost_race_keeps_no_number(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock, referents=1)
    await _by_phone(db, clock, s.place_ids[0])
    cohort = await b.cohort(db, clock, s)
    slow = await b.invite(db, clock, app, s, cohort, phone=None)
    quick = await b.invite(db, clock, app, s, cohort, last_name="Martin")
    await b.verified(client, slow.token)
    link = b.slot_links((await client.get("/rdv/creneaux")).text)[0]
    fields = b.hidden_fields((await client.get(link)).text)
    async with b.browser(app) as other:
        await b.verified(other, quick.token, "mar")
        confirm = await other.get(link)
        taken = await other.post("/rdv/creneaux/confirmer", data=b.hidden_fields(confirm.text))
        assert taken.status_code == 303
    lost = await client.post(
        "/rdv/creneaux/confirmer", data={**fields, "telephone": "06 12 34 56 78"}
    )
    assert lost.status_code == 409
    assert "Ce créneau vient d'être réservé" in lost.text
    assert b.slot_links(lost.text)  # fresh slots
    assert not await b.appointments(db, clock, slow.journey_id)
    assert await _phone_of(db, clock, slow.person_id) is None  # rolled back with the booking
