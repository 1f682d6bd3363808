"""A person books from the invitation link, moves and cancels, in a real browser: with
JavaScript, without it, and on a 320 px phone (where no page may scroll sideways); the slot
page stays short at 320 px; a phone appointment asks for a number when none is on file. Each
page of the flow is also checked by axe-core, with JavaScript and at 320 px
(test_accessibility.py covers the pages off this path)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect
from sqlalchemy import update
from tests.e2e.browser import MODES, Mode, NewPage, Shot
from tests.e2e.steps import audit, invited_person, paris
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import AppointmentStatus
from rdv_spie.territories.models import Place, PlaceKind


async def _choose_day(page: Page, day: str) -> None:
    """The day form: a select and a button, sent as a GET (works without JavaScript)."""
    await page.get_by_label("Jour", exact=True).select_option(label=day)
    await page.get_by_role("button", name="Voir les horaires").click()


async def _step(page: Page, shot: Shot, mode: Mode, name: str, heading: str) -> None:
    """The page has its title; a screenshot; axe-core and the 320 px width where it runs."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await shot(page, name)
    if mode == "nojs":  # the same HTML as "js": audited there
        return
    await audit(page, mode, name)


@pytest.mark.parametrize("mode", MODES)
async def test_book_download_and_cancel_from_the_invitation_link(
    new_page: NewPage,
    shot: Shot,
    mode: Mode,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    live_server: str,
) -> None:
    invited = await invited_person(db, clock, app)
    page = await new_page(mode)

    # The link: the token leaves the address bar for a cookie; nothing personal yet.
    response = await page.goto(f"/i/{invited.token}")
    assert response is not None and response.status == 200
    assert page.url == f"{live_server}/rdv" and invited.token not in page.url
    await expect(page.locator("main")).not_to_contain_text("Dupré")
    await _step(page, shot, mode, "1-check", "Prenez votre rendez-vous")

    letters = page.get_by_label("Les 3 premières lettres de votre nom de famille")
    await letters.fill("dup")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page).to_have_url(f"{live_server}/rdv/creneaux")
    await expect(
        page.get_by_role("heading", level=2, name="Les premiers horaires libres")
    ).to_be_visible()
    await _step(page, shot, mode, "2-slots", "Choisissez un horaire")

    # Tuesday 09:00 in Paris, one hour's notice: 10h is the first slot today, then the first
    # of each following day; but a slot today could not be cancelled online any more (4 h
    # before): the person chooses Monday 7 December in the day form (a GET, no script).
    await expect(page.locator("ul.slots a")).to_have_count(5)
    await expect(page.locator("ul.slots a").first).to_have_accessible_name(
        "Mardi 1er décembre à 10h"
    )
    await _choose_day(page, "Lundi 7 décembre")
    await expect(page).to_have_url(f"{live_server}/rdv/creneaux?jour=2026-12-07")
    await _step(page, shot, mode, "2b-day", "Choisissez un horaire")
    first = page.locator("ul.slots a").first
    await expect(first).to_have_accessible_name("lundi 7 décembre, 9h")
    await first.click()
    await expect(page).to_have_url(re.compile(r"/rdv/creneaux/confirmer\?debut=2026-12-07T08:00Z"))
    await expect(page.locator("dl.summary")).to_contain_text("Lundi 7 décembre 2026")
    await _step(page, shot, mode, "3-confirm", "Confirmez votre rendez-vous")
    assert not await b.appointments(db, clock, invited.journey_id)  # looking books nothing

    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()
    await expect(page).to_have_url(f"{live_server}/rdv/confirmation")
    summary = page.locator("dl.summary")
    await expect(summary).to_contain_text("Lundi 7 décembre 2026")
    await expect(summary).to_contain_text("9h")
    await expect(summary).to_contain_text("0 rue de l'Exemple")
    await expect(page.locator("main")).to_contain_text("Une pièce d'identité")
    await _step(page, shot, mode, "4-confirmation", "Votre rendez-vous est confirmé")
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.starts_at == paris(2026, 12, 7, 9)

    # The .ics: downloaded by the link, served as a calendar, at 9h Paris time.
    ics_link = page.get_by_role("link", name="Ajouter à mon agenda (fichier .ics)")
    async with page.expect_download() as downloading:
        await ics_link.click()
    download = await downloading.value
    assert download.suggested_filename == "rendez-vous.ics"
    path = await download.path()
    calendar = path.read_bytes().decode().replace("\r\n ", "")
    assert "BEGIN:VEVENT" in calendar and "END:VEVENT" in calendar
    assert f"UID:appointment-{appointment.id}@rdv-spie" in calendar
    assert "DTSTART;TZID=Europe/Paris:20261207T090000" in calendar
    assert "DTEND;TZID=Europe/Paris:20261207T094500" in calendar
    served = await page.context.request.get(await ics_link.get_attribute("href") or "")
    assert served.status == 200
    assert served.headers["content-type"].startswith("text/calendar")
    assert (await served.text()).replace("\r\n ", "") == calendar

    # Moved to Tuesday 8 December 10h: the move pages, the same day form.
    await page.get_by_role("link", name="Changer l'horaire").click()
    await expect(page).to_have_url(f"{live_server}/rdv/deplacer")
    await _step(page, shot, mode, "4b-move", "Changer l'horaire de votre rendez-vous")
    await _choose_day(page, "Mardi 8 décembre")
    await expect(page).to_have_url(f"{live_server}/rdv/deplacer?jour=2026-12-08")
    await page.get_by_role("link", name="mardi 8 décembre, 10h", exact=True).click()
    await _step(page, shot, mode, "4c-move-confirm", "Confirmez le nouvel horaire")
    await page.get_by_role("button", name="Confirmer le nouvel horaire").click()
    await expect(page).to_have_url(f"{live_server}/rdv/confirmation")
    await expect(page.locator("dl.summary")).to_contain_text("Mardi 8 décembre 2026")
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.starts_at == paris(2026, 12, 8, 10) and appointment.sequence == 1

    await page.get_by_role("link", name="Annuler le rendez-vous").click()
    await expect(page).to_have_url(f"{live_server}/rdv/annuler")
    await expect(page.locator("main")).to_contain_text("Premier rendez-vous")
    await _step(page, shot, mode, "5-cancel", "Annuler votre rendez-vous ?")
    await page.get_by_role("button", name="Oui, j'annule").click()
    await expect(page).to_have_url(f"{live_server}/rdv/annulation")
    await _step(page, shot, mode, "6-cancelled", "Votre rendez-vous est annulé")
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.CANCELLED

    # Tuesday 10h is offered again.
    await page.get_by_role("link", name="Choisir un autre horaire").click()
    await expect(page).to_have_url(f"{live_server}/rdv/creneaux")
    await _choose_day(page, "Mardi 8 décembre")
    await expect(page.get_by_role("link", name="mardi 8 décembre, 10h", exact=True)).to_be_visible()


async def _page_height(page: Page) -> int:
    """document.documentElement.scrollHeight, through DevTools (works without JavaScript)."""
    cdp = await page.context.new_cdp_session(page)
    try:
        answer = await cdp.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
        )
    finally:
        await cdp.detach()
    return int(answer["result"]["value"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_slot_page_stays_short_on_a_phone(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """Three places open every weekday morning: the page offers five slots, a day and a place
    to choose, not a week of buttons per place (2,854 px at 320 px before, 3,413 for a full
    week; the demo's 3,857)."""
    s = await sc.build(db, clock, places=3)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    page = await new_page("mobile")
    await page.goto(f"/i/{invited.token}")
    await page.get_by_label("Les 3 premières lettres de votre nom de famille").fill("DUP")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez un horaire")
    await page.wait_for_load_state("load")  # the style sheets are in
    await shot(page, "soonest")
    height = await _page_height(page)
    print(f"\nslot page at 320 px, 3 places: {height} px")
    assert height <= 2 * 1024, f"the slot page is {height} px tall at 320 px"
    await expect(page.locator("ul.slots a")).to_have_count(5)

    # One place, then one day: still short, and the choice survives.
    await page.get_by_role(
        "link", name="Voir seulement les horaires de ce lieu : Lieu 2 (Laon)"
    ).click()
    await _choose_day(page, "Mercredi 9 décembre")
    await expect(page).to_have_url(re.compile(rf"\?lieu={s.place_ids[2]}&jour=2026-12-09$"))
    await page.wait_for_load_state("load")
    height = await _page_height(page)
    print(f"one place, one day at 320 px: {height} px")
    assert height <= 2 * 1024
    await audit(page, "mobile", "one place, one day")


@pytest.mark.parametrize("mode", MODES)
async def test_a_phone_appointment_asks_for_the_number(
    new_page: NewPage,
    shot: Shot,
    mode: Mode,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    live_server: str,
) -> None:
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Place)
            .where(Place.id == s.place_ids[0])
            .values(kind=PlaceKind.PHONE, name="Par téléphone", address=None)
        )
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s), phone=None)
    page = await new_page(mode)
    await page.goto(f"/i/{invited.token}")
    await page.get_by_label("Les 3 premières lettres de votre nom de famille").fill("DUP")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.locator("main")).to_contain_text("nous vous demanderons votre numéro")
    await page.locator("ul.slots a").first.click()
    number = page.get_by_label("Votre numéro de téléphone")
    await expect(number).to_be_visible()

    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()  # empty
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Il y a un problème")
    await expect(number).to_have_attribute("aria-invalid", "true")
    await _step(page, shot, mode, "phone-empty", "Confirmez votre rendez-vous")
    await summary.get_by_role("link").click()  # the summary's entry leads to the field
    await expect(page).to_have_url(re.compile(r"#telephone$"))
    if mode != "nojs":
        await expect(number).to_be_focused()
    await number.fill("06 12")
    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()
    await expect(page.get_by_role("alert")).to_contain_text("n'est pas valable")
    assert not await b.appointments(db, clock, invited.journey_id)

    await page.get_by_label("Votre numéro de téléphone").fill("06 12 34 56 78")
    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()
    await expect(page).to_have_url(f"{live_server}/rdv/confirmation")
    await expect(page.locator("dl.summary")).to_contain_text("Par téléphone")
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.BOOKED
    async with db.unit_of_work(clock=clock, write=False) as uow:
        person = await uow.session.get(Person, invited.person_id)
        assert person is not None and person.phone == "+33612345678"
