"""A link locked after too many wrong answers is unlocked wherever a referent following the
journey sees it: in the office booking search too, not only in Personnes à suivre (which
lists only journeys due within the cohort's alert delay)."""

from __future__ import annotations

from datetime import date

import httpx
from tests.integration.web_office.office_support import (
    Office,
    body,
    csrf,
    login,
    office_journey,
    post_form,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey
from rdv_spie.people.pages import back_to

BOOK = "/agent/prise-de-rdv"


async def _locked(db: Database, clock: FrozenClock, journey_id: object) -> bool:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        row = await uow.session.get(Journey, journey_id)
        assert row is not None
        return row.identity_locked_at is not None and row.identity_failures > 0


async def test_a_journey_due_in_three_weeks_is_unlocked_from_the_booking_search(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    # Today is Tuesday 1 December; due on the 22nd, beyond the 7-day alert delay.
    journey = await office_journey(
        db, clock, office, last_name="Lointain", appointment_by_on=date(2026, 12, 22), locked=True
    )
    await office_journey(db, clock, office, last_name="Libre", appointment_by_on=date(2026, 12, 22))
    await login(client, office.email)
    assert "Lointain" not in body(await client.get("/agent/personnes"))

    search = body(await client.get(BOOK, params={"q": "lointain"}))
    assert "Camille Lointain" in search and "Camille Libre" not in search
    assert "Bloqué</strong> après trop d'essais" in search
    assert f'action="/agent/parcours/{journey}/deblocage"' in search
    assert search.count("Débloquer le lien") == 1
    assert "Utilisable" in body(await client.get(BOOK, params={"q": "libre"}))

    unlocked = await client.post(
        f"/agent/parcours/{journey}/deblocage",
        data={"csrf_token": csrf(search), "suite": f"{BOOK}?q=lointain"},
    )
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == f"{BOOK}?q=lointain&fait=debloque"
    assert not await _locked(db, clock, journey)
    back = body(await client.get(unlocked.headers["location"]))
    assert "Le lien est débloqué : la personne peut de nouveau l'utiliser." in back
    assert "Camille Lointain" in back and "Débloquer le lien" not in back


async def test_the_journey_chosen_for_a_booking_says_its_link_is_locked(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db, clock, office, last_name="Lointain", appointment_by_on=date(2026, 12, 22), locked=True
    )
    await login(client, office.email)
    chosen = body(await client.get(BOOK, params={"parcours": str(journey)}))
    assert "Pour <strong>Camille Lointain</strong>" in chosen
    assert chosen.count("Débloquer le lien") == 1
    unlocked = await client.post(
        f"/agent/parcours/{journey}/deblocage",
        data={"csrf_token": csrf(chosen), "suite": f"{BOOK}?parcours={journey}"},
    )
    assert unlocked.headers["location"] == f"{BOOK}?parcours={journey}&fait=debloque"
    back = body(await client.get(unlocked.headers["location"]))
    assert "Le lien est débloqué" in back and "Débloquer le lien" not in back
    assert not await _locked(db, clock, journey)


async def test_another_organisation_cannot_unlock_from_the_search(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(
        db, clock, office, last_name="Lointain", appointment_by_on=date(2026, 12, 22), locked=True
    )
    await login(client, office.other_email)
    assert "Lointain" not in body(await client.get(BOOK, params={"q": "lointain"}))
    refused = await post_form(
        client,
        f"/agent/parcours/{journey}/deblocage",
        {"suite": f"{BOOK}?q=lointain"},
        token_from=BOOK,
    )
    assert refused.status_code == 404
    assert await _locked(db, clock, journey)


def test_the_way_back_stays_on_the_lists_that_unlock() -> None:
    assert back_to("/agent/personnes") == "/agent/personnes?fait=debloque"
    assert back_to(f"{BOOK}?q=Jean+Dupont&motif=x") == f"{BOOK}?q=Jean+Dupont&fait=debloque"
    assert back_to(f"{BOOK}?parcours=x") == f"{BOOK}?parcours=x&fait=debloque"
    assert back_to(BOOK) == f"{BOOK}?fait=debloque"
    for elsewhere in (
        "",
        "https://exemple.fr/agent/personnes",
        "//exemple.fr/agent/personnes",
        "/agent/agenda",
        "/agent/prise-de-rdv/../../x",
        "/agent/personnes\r\nSet-Cookie: x=1",
    ):
        assert back_to(elsewhere) == "/agent/personnes?fait=debloque", elsewhere
