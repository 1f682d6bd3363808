"""A person books from the invitation link and cancels, in a real browser: with JavaScript,
without it, and on a 320 px phone (where no page may scroll sideways). Each page of the flow
is also checked by axe-core, with JavaScript and at 320 px (test_accessibility.py covers the
pages off this path)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect
from tests.e2e.browser import MODES, Mode, NewPage, Shot
from tests.e2e.steps import audit, invited_person, paris
from tests.integration.web_public import browsing as b

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import AppointmentStatus


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
    await expect(page.get_by_role("heading", level=2, name=re.compile("^Semaine du"))).to_have_text(
        "Semaine du lundi 30 novembre au dimanche 6 décembre"
    )
    await _step(page, shot, mode, "2-slots", "Choisissez un horaire")

    # Tuesday 09:00 in Paris, one hour's notice: 10h is the first slot today; but a slot
    # today could not be cancelled online any more (4 h before): next week's first one.
    await expect(page.locator("ul.slots a").first).to_have_accessible_name(
        "mardi 1er décembre, 10h"
    )
    await page.get_by_role("link", name="Semaine suivante").click()
    await expect(page).to_have_url(f"{live_server}/rdv/creneaux?semaine=2026-12-07")
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

    await page.get_by_role("link", name="Annuler le rendez-vous").click()
    await expect(page).to_have_url(f"{live_server}/rdv/annuler")
    await expect(page.locator("main")).to_contain_text("Premier rendez-vous")
    await _step(page, shot, mode, "5-cancel", "Annuler votre rendez-vous ?")
    await page.get_by_role("button", name="Oui, j'annule").click()
    await expect(page).to_have_url(f"{live_server}/rdv/annulation")
    await _step(page, shot, mode, "6-cancelled", "Votre rendez-vous est annulé")
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    assert appointment.status == AppointmentStatus.CANCELLED

    # Monday 9h is offered again.
    await page.get_by_role("link", name="Choisir un autre horaire").click()
    await expect(page).to_have_url(f"{live_server}/rdv/creneaux")
    await page.get_by_role("link", name="Semaine suivante").click()
    await expect(page.locator("ul.slots a").first).to_have_accessible_name("lundi 7 décembre, 9h")
