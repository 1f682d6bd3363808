"""A referent in a real browser: adds an availability rule and an absence and sees the slots
change, in the page's preview and on an invited person's public page; books for a person who
called, and finds the appointment in the team agenda (without JavaScript)."""

from __future__ import annotations

import re
from datetime import date

from litestar import Litestar
from playwright.async_api import Page, expect
from sqlalchemy import select
from tests.e2e.browser import NewPage, Shot
from tests.e2e.steps import invited_person, log_in
from tests.integration.web_office.office_support import add_journey, set_password

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

_PREVIEW = re.compile(r"(\d+) créneaux? libres? dans les 14 prochains jours")


async def preview_count(page: Page) -> int:
    """How many single-type slots the availability page announces for the next 14 days."""
    heading = page.get_by_role("heading", level=3, name="Premier rendez-vous", exact=True)
    text = await heading.locator("xpath=following-sibling::p[1]").inner_text()
    found = _PREVIEW.search(text)
    return int(found.group(1)) if found else 0


async def test_rule_and_absence_change_the_slots(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)  # one referent: an absence closes slots
    s = invited.s
    email = await set_password(db, clock, s.referent_ids[0])

    person = await new_page("js")
    await person.goto(f"/i/{invited.token}")
    await person.get_by_label("Les 3 premières lettres de votre nom de famille").fill("DUP")
    await person.get_by_role("button", name="Continuer").click()
    await expect(person).to_have_url(re.compile(r"/rdv/creneaux$"))
    days = person.get_by_label("Jour", exact=True).locator("option")
    before = await days.all_inner_texts()
    assert before[:4] == [
        "Mardi 1er décembre",
        "Mercredi 2 décembre",
        "Jeudi 3 décembre",
        "Vendredi 4 décembre",
    ]

    page = await log_in(new_page, email)
    await page.get_by_role("link", name="Disponibilités", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mes disponibilités")
    previewed = await preview_count(page)
    assert previewed > 0
    await shot(page, "1-availability")

    # Saturdays 9h–11h at the place, for the first appointment.
    form = page.locator("form", has=page.get_by_role("button", name="Ajouter la plage"))
    await form.get_by_label("samedi").check()
    await form.locator("#start_time").fill("09:00")
    await form.locator("#end_time").fill("11:00")
    await form.get_by_label("Lieu", exact=True).select_option(label="Lieu 0 (Laon)")
    await form.get_by_label("Premier rendez-vous").check()
    await form.get_by_label("Valable à partir du").fill("2026-12-01")
    await form.get_by_role("button", name="Ajouter la plage").click()
    await expect(page.get_by_role("status")).to_contain_text("La plage d'ouverture est enregistrée")
    await expect(
        page.get_by_role("table", name="Plages d'ouverture chaque semaine")
    ).to_contain_text("samedi")
    # 9h, 9h15 … 10h15 (45 minutes end by 11h), on 5 and 12 December.
    assert await preview_count(page) == previewed + 2 * 6
    await shot(page, "2-rule-added")

    # Wednesday 2 December, 8h–13h: the only referent is away all morning.
    form = page.locator("form", has=page.get_by_role("button", name="Ajouter l'absence"))
    await form.locator("#starts_at").fill("2026-12-02T08:00")
    await form.locator("#ends_at").fill("2026-12-02T13:00")
    await form.get_by_label("Motif").fill("Formation")
    await form.get_by_role("button", name="Ajouter l'absence").click()
    await expect(page.get_by_role("table", name="Absences à venir")).to_contain_text("Formation")
    # Its ten slots, 9h to 11h15, are gone.
    assert await preview_count(page) == previewed + 2 * 6 - 10
    await shot(page, "3-absence-added")

    await person.reload()
    after = await days.all_inner_texts()
    assert after[:4] == [
        "Mardi 1er décembre",
        "Jeudi 3 décembre",
        "Vendredi 4 décembre",
        "Samedi 5 décembre",
    ]
    await person.get_by_label("Jour", exact=True).select_option(label="Samedi 5 décembre")
    await person.get_by_role("button", name="Voir les horaires").click()
    await expect(person.get_by_role("heading", level=2, name="Samedi 5 décembre")).to_be_visible()
    assert await person.locator("ul.slots a").all_text_contents() == [
        f"samedi 5 décembre, {at}" for at in ("9h", "9h15", "9h30", "9h45", "10h", "10h15")
    ]
    await shot(person, "4-public-slots")


async def test_book_for_a_person_who_called(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)
    s = invited.s
    email = await set_password(db, clock, s.referent_ids[0])
    journey_id = await add_journey(
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=invited.cohort_id,
        last_name="Moreau",
        appointment_by_on=date(2026, 12, 20),
    )

    page = await log_in(new_page, email, "nojs")
    await page.get_by_role("link", name="Prendre un rendez-vous").click()
    await page.get_by_label("Rechercher par nom ou prénom").fill("more")
    await page.get_by_role("button", name="Rechercher").click()
    people = page.get_by_role("table")
    await expect(people).to_contain_text("Camille Moreau")
    await expect(people).not_to_contain_text("Dupré")
    await shot(page, "1-search")
    await page.get_by_role("link", name="Choisir Camille Moreau").click()
    await expect(page.locator("main")).to_contain_text("Pour Camille Moreau")
    await shot(page, "2-slots")

    # Tuesday 09:00, one hour's notice: the first slot is 10h today.
    first = page.locator("ul.slots a").first
    await expect(first).to_have_accessible_name(re.compile(r"^10h le mardi 1er décembre"))
    await first.click()
    await expect(page.get_by_role("heading", level=2)).to_have_text("Confirmer le rendez-vous")
    await expect(page.locator("dl.summary")).to_contain_text("mardi 1er décembre 2026 à 10h")
    await shot(page, "3-confirm")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert not (
            await uow.session.scalars(
                select(Appointment).where(Appointment.journey_id == journey_id)
            )
        ).all()

    await page.get_by_role("button", name="Confirmer le rendez-vous").click()
    await expect(page).to_have_url(
        re.compile(r"/agent/agenda\?semaine=2026-11-30&equipe=1&fait=rdv&pris=[0-9a-f-]+#rdv-")
    )
    await expect(page.get_by_role("status")).to_contain_text(
        "Le rendez-vous est pris avec Referent0 Test"
    )
    async with db.unit_of_work(clock=clock, write=False) as uow:
        [appointment] = (
            await uow.session.scalars(
                select(Appointment).where(Appointment.journey_id == journey_id)
            )
        ).all()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.created_by_agent_id == s.referent_ids[0]
    entry = page.locator(f"#rdv-{appointment.id}")
    await expect(entry).to_contain_text("10h – 10h45 · Premier rendez-vous")
    await expect(entry).to_contain_text("Camille Moreau")
    tuesday = page.locator(
        "section.day", has=page.get_by_role("heading", name="Mardi 1er décembre")
    )
    await expect(tuesday.locator(f"#rdv-{appointment.id}")).to_have_count(1)
    await shot(page, "4-agenda")
