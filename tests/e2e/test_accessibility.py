"""axe-core finds no WCAG 2.1 A/AA violation, and nothing scrolls sideways at 320 px, on the
public pages off the booking path of test_public_flow.py (which audits the check, slots,
confirm, confirmation, cancel and cancelled pages) and on the main back-office pages; with
JavaScript, and on a 320 px phone.

On SQLite only: what axe reads is the HTML and CSS, the same whichever engine holds the data,
and a browser page costs about a second; the flows through these pages (test_public_flow.py,
test_office_flow.py) run on both engines."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect
from sqlalchemy import update
from tests.e2e.browser import Mode, NewPage
from tests.e2e.steps import audit, invited_person, log_in, paris
from tests.integration.web_office.office_support import add_journey, set_password
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey
from rdv_spie.scheduling.models import Absence

AUDITED: tuple[Mode, ...] = ("js", "mobile")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _heading(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


async def _answer(page: Page, letters: str) -> None:
    await page.get_by_label("Les 3 premières lettres de votre nom de famille").fill(letters)
    await page.get_by_role("button", name="Continuer").click()


async def _locked(db: Database, clock: FrozenClock, app: Litestar, beside: b.Invited) -> str:
    """The link of a person (in the same cohort) who gave five wrong answers."""
    invited = await b.invite(db, clock, app, beside.s, beside.cohort_id, last_name="Martin")
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Journey)
            .where(Journey.id == invited.journey_id)
            .values(identity_failures=5, identity_locked_at=clock.now())
        )
    return invited.token


async def _nothing_left(db: Database, clock: FrozenClock, app: Litestar) -> str:
    """The link of a person whose delay ends today, on a territory whose referent is away."""
    s = await sc.build(db, clock, slug="vide", referents=1)
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            Absence(
                agent_id=s.referent_ids[0],
                starts_at=paris(2026, 12, 1),
                ends_at=paris(2026, 12, 2),
            )
        )
    cohort = await b.cohort(db, clock, s)
    invited = await b.invite(db, clock, app, s, cohort, appointment_by=clock.now().date())
    return invited.token


@pytest.mark.parametrize("mode", AUDITED)
async def test_public_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)
    locked = await _locked(db, clock, app, invited)
    nothing_left = await _nothing_left(db, clock, app)
    page = await new_page(mode)

    await page.goto("/")
    await _heading(page, "Prendre votre premier rendez-vous")
    await audit(page, mode, "the front page")

    dead = await page.goto(f"/i/{secrets.token_urlsafe(16)}")
    assert dead is not None and dead.status == 404
    await _heading(page, "Ce lien n'est plus valable")
    await audit(page, mode, "the dead link page")

    missing = await page.goto("/nulle-part")
    assert missing is not None and missing.status == 404
    await audit(page, mode, "the 404 page")

    await page.goto(f"/i/{locked}")
    await _heading(page, "Ce lien est bloqué")
    await audit(page, mode, "the locked link page")

    await page.goto(f"/i/{invited.token}")
    await _answer(page, "MAR")
    await expect(page.get_by_role("alert")).to_contain_text("Il vous reste 4 essais")
    await expect(page.get_by_label("Les 3 premières lettres")).to_have_attribute(
        "aria-invalid", "true"
    )
    await audit(page, mode, "the identity check with its error")

    # Booked for Monday 7 December 9h, then the move pages.
    await _answer(page, "DUP")
    await page.goto("/rdv/creneaux?jour=2026-12-07")
    await page.locator("ul.slots a").first.click()
    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()
    await page.get_by_role("link", name="Changer l'horaire").click()
    await _heading(page, "Changer l'horaire de votre rendez-vous")
    await expect(page.locator("main")).to_contain_text("Votre rendez-vous actuel")
    await audit(page, mode, "the move slots page")
    await page.locator("ul.slots a").first.click()
    await _heading(page, "Confirmez le nouvel horaire")
    await audit(page, mode, "the move confirm page")

    # Someone calls and gets that very slot meanwhile: the person's confirm loses the race.
    s = invited.s
    taken = await page.context.request.post(
        "/api/v1/appointments/",
        data={
            "appointment_type_id": str(s.single_type_id),
            "place_id": await page.locator('input[name="lieu"]').input_value(),
            "starts_at": datetime.fromisoformat(
                await page.locator('input[name="debut"]').input_value()
            ).isoformat(),
            "referent_id": str(s.referent_ids[0]),
            "person": {"first_name": "Autre", "last_name": "Personne"},
        },
        headers=s.auth(),
    )
    assert taken.status == 201, await taken.text()
    await page.get_by_role("button", name="Confirmer le nouvel horaire").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Ce créneau vient d'être réservé. Choisissez un autre horaire."
    )
    await _heading(page, "Changer l'horaire de votre rendez-vous")
    await audit(page, mode, "the move slots page after a lost race")

    await page.goto(f"/i/{nothing_left}")
    await _answer(page, "DUP")
    await _heading(page, "Il n'y a plus d'horaire libre en ligne")
    await audit(page, mode, "the no-slot page")

    # The link openings allowed per address (30 a minute) run out: the 429 page.
    path = f"/i/{secrets.token_urlsafe(16)}"
    for _ in range(40):
        if (await page.context.request.get(path, max_redirects=0)).status == 429:
            break
    limited = await page.goto(path)
    assert limited is not None and limited.status == 429
    await expect(page.locator("main")).to_contain_text("Vous avez fait beaucoup d'essais")
    await audit(page, mode, "the too-many-tries page")


@pytest.mark.parametrize("mode", AUDITED)
async def test_office_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)
    s = invited.s
    email = await set_password(db, clock, s.referent_ids[0])
    for name, by, locked in [
        ("Moreau", date(2026, 12, 20), False),
        ("Petit", date(2026, 12, 4), True),
    ]:
        await add_journey(
            db,
            clock,
            territory_id=s.territory_id,
            cohort_id=invited.cohort_id,
            last_name=name,
            appointment_by_on=by,
            referent_id=s.referent_ids[0],
            locked=locked,
        )

    page = await new_page(mode)
    await page.goto("/agent/connexion")
    await _heading(page, "Connexion à l'espace agent")
    await audit(page, mode, "the login page")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill("pas le bon")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("alert")).to_contain_text("incorrect")
    await audit(page, mode, "the login page with its error")
    await page.close()

    page = await log_in(new_page, email, mode)
    await _heading(page, re.compile(r"^Agenda\s+– semaine du"))
    await audit(page, mode, "my agenda")

    await page.goto("/agent/prise-de-rdv")
    await expect(page.get_by_role("table")).to_contain_text("Camille Moreau")
    await audit(page, mode, "booking on behalf: the people")
    await page.get_by_role("link", name="Choisir Camille Moreau").click()
    await expect(page.locator("ul.slots a").first).to_be_visible()
    await audit(page, mode, "booking on behalf: the slots")
    await page.locator("ul.slots a").first.click()
    await expect(page.get_by_role("button", name="Confirmer le rendez-vous")).to_be_visible()
    await audit(page, mode, "booking on behalf: the confirm step")
    await page.get_by_role("button", name="Confirmer le rendez-vous").click()
    await _heading(page, re.compile(r"^Agenda de mon équipe"))
    await expect(page.locator("ul.appointments")).to_contain_text("Camille Moreau")
    await audit(page, mode, "the team agenda with an appointment")

    await page.goto("/agent/disponibilites")
    await page.get_by_role("button", name="Ajouter la plage").click()  # no day, no hours
    await expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient")
    await audit(page, mode, "the availability page with errors")

    await page.goto("/agent/personnes")
    await expect(page.locator("main")).to_contain_text("Camille Petit")
    await audit(page, mode, "the people to follow")

    await page.goto("/agent/calendrier")
    await page.get_by_role("button", name="Créer un nouveau lien").click()
    await expect(page.get_by_label("Lien à copier")).to_have_value(re.compile(r"^http"))
    await audit(page, mode, "the calendar page with a new link")

    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    await audit(page, mode, "the login page after logging out")
    await page.goto("/agent/agenda")  # the session ended on the server
    await _heading(page, "Connexion à l'espace agent")
