"""axe-core finds no WCAG 2.1 A/AA violation, and nothing scrolls sideways at 320 px, on the
public pages off the booking path of test_public_flow.py (which audits the check, slots,
confirm, confirmation, cancel and cancelled pages), on the main back-office pages, and on
every page of the territory team's office (cohorts, imports, journeys, indicators, the
structure choice) and of the administration (with the password page its e-mail opens); at
1280 px with JavaScript, and on a 320 px phone.

On SQLite only: what axe reads is the HTML and CSS, the same whichever engine holds the data,
and a browser page costs about a second; the flows through these pages (test_public_flow.py,
test_office_flow.py) run on both engines."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import Page, expect
from sqlalchemy import select, update
from tests.e2e.browser import Mode, NewPage
from tests.e2e.mail import Mailbox
from tests.e2e.steps import (
    COHORTS,
    CSV_ROWS,
    audit,
    invited_person,
    log_in,
    paris,
    windows_1252_csv,
)
from tests.integration.web_office.office_support import add_cohort, add_journey, set_password
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc
from tests.support.cto import Cto, agent

from rdv_spie.administration import paths as admin
from rdv_spie.agents.models import Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import cycle
from rdv_spie.committees import paths as committee
from rdv_spie.db.uow import Database
from rdv_spie.invitations import paths as invitation_paths
from rdv_spie.people import imports
from rdv_spie.people import paths as people
from rdv_spie.people.models import Journey
from rdv_spie.privacy import paths as privacy
from rdv_spie.scheduling.models import Absence
from rdv_spie.territories.models import Organisation, OrganisationKind
from rdv_spie.web import paths as office

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


async def _second_structure(
    db: Database, clock: FrozenClock, s: sc.Scenario, agent_id: Any
) -> None:
    """The agent is an animator of a second organisation too: the structure choice shows."""
    async with db.unit_of_work(clock=clock) as uow:
        other = Organisation(
            territory_id=s.territory_id,
            name="Mission locale test",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        uow.session.add(other)
        await uow.session.flush()
        uow.session.add(Membership(agent_id=agent_id, organisation_id=other.id, role=Role.ANIMATOR))


@pytest.mark.parametrize("mode", AUDITED)
async def test_team_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    await add_cohort(db, clock, s)
    await _second_structure(db, clock, s, s.animator_id)
    email = await set_password(db, clock, s.animator_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)

    await page.goto(office.ACTING)
    await _heading(page, "Choisir sa structure")
    await audit(page, mode, "the structure choice")
    await page.get_by_label(re.compile(r"^Département test")).check()
    await page.get_by_role("button", name="Valider").click()

    await page.goto(office.COHORTS)
    await _heading(page, "Cohortes")
    await audit(page, mode, "the cohorts")
    await page.get_by_role("link", name="Nouvelle cohorte").click()
    await audit(page, mode, "a new cohort")
    await page.get_by_label("Nom de la cohorte").fill("")
    await page.get_by_role("button", name="Créer la cohorte").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, mode, "a new cohort with its errors")

    await page.goto(office.COHORTS)
    await page.get_by_role("link", name="Jeunes 18-30 ans").click()
    await _heading(page, "Cohorte Jeunes 18-30 ans")
    await audit(page, mode, "a cohort, empty")
    await page.get_by_role("link", name="Modifier les réglages").click()
    await audit(page, mode, "a cohort's settings")

    await page.get_by_role("link", name="Retour à la cohorte").click()
    await page.get_by_role("link", name="Importer des personnes").click()
    await audit(page, mode, "the upload form")
    await page.get_by_role("button", name="Voir ce que l'import va faire").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, mode, "the upload form without a file")
    await page.get_by_label("Fichier des personnes").set_input_files(
        {"name": "personnes.csv", "mimeType": "text/csv", "buffer": windows_1252_csv(CSV_ROWS)}
    )
    await page.get_by_role("button", name="Voir ce que l'import va faire").click()
    await _heading(page, "Import du fichier personnes.csv")
    await audit(page, mode, "the import's preview with rejected rows")
    await page.get_by_role("button", name=re.compile(r"^Importer \d+ personnes?$")).click()
    await expect(page.get_by_role("progressbar")).to_be_visible()  # audited below
    run_id = uuid.UUID(page.url.rstrip("/").rsplit("/", 1)[-1])
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    await page.reload()
    await expect(page.get_by_role("status")).to_contain_text("L'import est terminé")
    await audit(page, mode, "the import's summary")
    await page.get_by_role("link", name="Historique des imports").first.click()
    await _heading(page, re.compile(r"^Historique des imports"))
    await audit(page, mode, "the import history")
    await page.get_by_role("link", name=re.compile(r"^Cohorte ")).first.click()
    await audit(page, mode, "a cohort with people")

    await page.goto(office.JOURNEYS)
    await _heading(page, "Parcours")
    await audit(page, mode, "the journeys")
    await page.get_by_role("link", name="Zoé Lefèvre").click()
    await _heading(page, "Parcours de Zoé Lefèvre")
    await page.get_by_role("button", name="Relancer maintenant").click()
    await expect(page.locator("ol.timeline")).to_contain_text("Invitation")
    await audit(page, mode, "a journey with its timeline")
    await page.get_by_role("button", name="Clore le parcours").click()  # no reason chosen
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, mode, "a journey's closing without a reason")

    await page.goto(office.INDICATORS)
    await _heading(page, re.compile(r"^Indicateurs"))
    await audit(page, mode, "the indicators")


@pytest.mark.parametrize("mode", AUDITED)
async def test_administration_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, mailbox: Mailbox
) -> None:
    s = await sc.build(db, clock)
    email = await set_password(db, clock, s.admin_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)

    await page.goto(admin.ADMINISTRATION)
    await _heading(page, "Administration")
    await audit(page, mode, "the administration")
    for path, name, title, new, row in [
        (admin.ORGANISATIONS, "structures", "Structures du territoire", "Ajouter une structure",
         "Département test"),
        (admin.PLACES, "places", re.compile(r"^Lieux de rendez-vous"), "Ajouter un lieu",
         "Lieu 0"),
        (admin.TYPES, "types", "Motifs de rendez-vous du territoire", "Ajouter un motif",
         "Premier rendez-vous"),
        (admin.AGENTS, "agents", re.compile(r"^Agents de"), "Ajouter un agent",
         "Referent0 Test"),
    ]:  # fmt: skip
        await page.goto(path)
        await _heading(page, title)
        await audit(page, mode, f"the {name}")
        await page.get_by_role("link", name=re.compile(f"^{row}")).first.click()
        await audit(page, mode, f"one of the {name}")
        await page.goto(path)
        await page.get_by_role("link", name=new).click()
        await audit(page, mode, f"a new one of the {name}")
        await page.locator("main form").last.get_by_role("button").last.click()  # empty
        await expect(page.get_by_role("alert").first).to_be_visible()
        await audit(page, mode, f"a new one of the {name}, refused")

    await page.goto(admin.API_KEYS)
    await _heading(page, re.compile(r"^Clés API"))
    await audit(page, mode, "the API keys")
    await page.goto(admin.FEED)
    await _heading(page, re.compile(r"^Calendrier du territoire"))
    await audit(page, mode, "the territory's feed")
    await page.goto(admin.READ_TRAIL)
    await _heading(page, "Consultations d'un dossier")
    await audit(page, mode, "the read trail's search")

    # A new agent: the e-mailed link opens the password page (a new browser, no session).
    await page.goto(admin.AGENT_NEW)
    await page.get_by_label("Prénom").fill("Inès")
    await page.get_by_label("Nom", exact=True).fill("Moreau")
    await page.get_by_label("Adresse e-mail professionnelle").fill("ines@test.test")
    await page.get_by_role("radio", name=re.compile(r"^Référent ou référente")).check()
    await page.get_by_role("button", name="Ajouter et envoyer le lien").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await audit(page, mode, "an agent just added")
    [message] = await mailbox.deliver(to="ines@test.test")
    newcomer = await new_page(mode)
    await newcomer.goto(mailbox.link(message, admin.PASSWORD_SETUP))
    await _heading(newcomer, "Choisir votre mot de passe")
    await audit(newcomer, mode, "the password page")
    await newcomer.get_by_role("button", name="Enregistrer mon mot de passe").click()
    await expect(newcomer.get_by_role("alert").first).to_be_visible()
    await audit(newcomer, mode, "the password page, refused")


@pytest.mark.parametrize("mode", AUDITED)
async def test_import_progress_page(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """The page of an import under way (its own test: it refreshes itself)."""
    s = await sc.build(db, clock)
    cohort_id = await add_cohort(db, clock, s)
    email = await set_password(db, clock, s.animator_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)
    await page.goto(people.IMPORT_NEW.replace("{cohort_id:uuid}", str(cohort_id)))
    await page.get_by_label("Fichier des personnes").set_input_files(
        {"name": "personnes.csv", "mimeType": "text/csv", "buffer": windows_1252_csv(CSV_ROWS)}
    )
    await page.get_by_role("button", name="Voir ce que l'import va faire").click()
    await page.get_by_role("button", name=re.compile(r"^Importer \d+ personnes?$")).click()
    await expect(page.get_by_role("progressbar")).to_be_visible()
    await audit(page, mode, "the import's progress")


# ---- committees (issue 16): every committee page of the team and of a referent, the person's file


def _at(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


@pytest.mark.parametrize("mode", AUDITED)
async def test_committee_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """A referent's fiches (list, new, one), the team's desk, a session's agenda before and
    after the freeze (eleven fiches for ten places), the series (list, new, refused, one)."""
    s = await sc.build(db, clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as client:
        c = Cto(s, client, db, clock, s.organisation_id, [], s.organisation_id, s.referent_ids[0])
        r = await client.post(
            "/api/v1/cto-series",
            headers=c.animator,
            json={
                "territory_id": str(s.territory_id),
                "organisation_id": str(s.organisation_id),
                "name": "CTO de Laon",
                "starts_on": "2026-12-10",
                "place_id": str(s.place_ids[0]),
            },
        )
        assert r.status_code == 201, r.text
        c.series_id = uuid.UUID(r.json()["id"])
        people_ids = await c.add_people(12)
        session = (await c.sessions())[0]
        fiche_ids = []
        for i, person in enumerate(people_ids[:11]):
            extra = {"urgent": True, "urgent_reason": "Expulsion prévue"} if i == 10 else {}
            done = await c.submit(session["id"], person, **extra)
            assert done.status_code == 201, done.text
            fiche_ids.append(done.json()["id"])
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.scalar(
            select(Journey.id).where(Journey.person_id == people_ids[11])
        )

    referent = await log_in(new_page, await set_password(db, clock, s.referent_ids[0]), mode)
    await referent.goto(committee.FICHES)
    await _heading(referent, "Fiches CTO")
    await audit(referent, mode, "a referent's fiches")
    await referent.goto(f"{committee.FICHE_NEW}?parcours={journey}")
    await _heading(referent, re.compile(r"^Nouvelle fiche CTO pour"))
    await audit(referent, mode, "a new fiche")
    await referent.locator("main form").last.get_by_role("button").last.click()  # empty
    await expect(referent.get_by_role("alert").first).to_be_visible()
    await audit(referent, mode, "a new fiche, refused")
    await referent.goto(_at(committee.FICHE, request_id=fiche_ids[0]))
    await _heading(referent, re.compile(r"^Fiche CTO de"))
    await audit(referent, mode, "one fiche")

    team_email = await set_password(db, clock, s.admin_id)
    team = await log_in(new_page, team_email, mode, lands=COHORTS)
    await team.goto(committee.COMMITTEES)
    await _heading(team, "Comités techniques d'orientation")
    await audit(team, mode, "the desk")
    agenda = _at(committee.SESSION, session_id=session["id"])
    await team.goto(agenda)
    await expect(team.locator("main")).to_contain_text("Au-delà de la capacité")
    await audit(team, mode, "a session's agenda before the freeze")
    await team.goto(committee.SERIES_LIST)
    await _heading(team, "Séries de comités")
    await audit(team, mode, "the series")
    await team.goto(committee.SERIES_NEW)
    await _heading(team, "Créer une série de comités")
    await audit(team, mode, "a new series")
    await team.locator("main form").last.get_by_role("button").last.click()  # empty
    await expect(team.get_by_role("alert").first).to_be_visible()
    await audit(team, mode, "a new series, refused")
    await team.goto(_at(committee.SERIES, series_id=c.series_id))
    await _heading(team, "Série CTO de Laon")
    await audit(team, mode, "one series")

    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    assert await cycle.freeze_due(db, clock) >= 1
    team = await log_in(new_page, team_email, mode, lands=COHORTS)  # the session timed out
    await team.goto(agenda)
    await expect(team.locator("main")).to_contain_text("Ordre du jour arrêté")
    await audit(team, mode, "a session's agenda after the freeze")


@pytest.mark.parametrize("mode", AUDITED)
async def test_person_data_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """Everything held about a person (issue 18), its erasure refused, then done."""
    invited = await invited_person(db, clock, app)
    email = await set_password(db, clock, invited.s.admin_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)
    await page.goto(_at(privacy.PERSON_DATA, person_id=invited.person_id))
    await _heading(page, re.compile(r"^Données de Camille"))
    await audit(page, mode, "a person's data")
    await page.get_by_role("button", name="Effacer les données").click()
    await expect(page.get_by_role("alert").first).to_be_visible()
    await audit(page, mode, "a person's data, erasure refused")
    await page.get_by_label(re.compile(r"^Raison")).fill("Demande de la personne")
    await page.get_by_label("Je confirme l'effacement des données de cette personne.").check()
    await page.get_by_role("button", name="Effacer les données").click()
    await _heading(page, "Données effacées")
    await audit(page, mode, "a person's data, erased")


@pytest.mark.parametrize("mode", AUDITED)
async def test_portal_pages(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """The partners' portal: the home before and after the charter, the charter (and its
    refusal), a frozen agenda, one fiche, the subscribe page before and with a new link."""
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        partner = await agent(uow, s, s.organisation_id, "portail", Role.PARTNER)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as client:
        c = Cto(s, client, db, clock, s.organisation_id, [], s.organisation_id, s.referent_ids[0])
        r = await client.post(
            "/api/v1/cto-series",
            headers=c.animator,
            json={
                "territory_id": str(s.territory_id),
                "organisation_id": str(s.organisation_id),
                "name": "CTO de Laon",
                "starts_on": "2026-12-10",
                "place_id": str(s.place_ids[0]),
                "video_url": "https://visio.example.org/cto-laon",
            },
        )
        assert r.status_code == 201, r.text
        c.series_id = uuid.UUID(r.json()["id"])
        added = await client.post(
            f"/api/v1/cto-series/{c.series_id}/members",
            headers=c.animator,
            json={"agent_id": str(partner)},
        )
        assert added.status_code == 201, added.text
        session = (await c.sessions())[0]
        fiches = []
        for i, person in enumerate(await c.add_people(3)):
            extra = {"urgent": True, "urgent_reason": "Expulsion prévue"} if i == 0 else {}
            done = await c.submit(session["id"], person, **extra)
            assert done.status_code == 201, done.text
            fiches.append(done.json()["id"])
    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    assert await cycle.freeze_due(db, clock) >= 1

    page = await log_in(
        new_page, await set_password(db, clock, partner), mode, lands=re.compile(r"/partenaire$")
    )
    await _heading(page, "Comités partenaires")
    await audit(page, mode, "the portal before the charter")
    await page.goto(committee.CHARTER)
    await _heading(page, "Charte de confidentialité")
    await audit(page, mode, "the charter")
    await page.get_by_role("button", name="J'accepte la charte").click()
    await expect(page.get_by_role("alert").first).to_be_visible()
    await audit(page, mode, "the charter, unticked")
    await page.get_by_label("J'ai lu la charte et je m'engage à la respecter.").check()
    await page.get_by_role("button", name="J'accepte la charte").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await audit(page, mode, "the portal after the charter")
    await page.goto(_at(committee.PORTAL_SESSION, session_id=session["id"]))
    await expect(page.get_by_role("table")).to_be_visible()
    await audit(page, mode, "a frozen agenda")
    await page.goto(_at(committee.PORTAL_FICHE, request_id=fiches[0]))
    await expect(page.locator("main")).to_contain_text("Expulsion prévue")
    await audit(page, mode, "one fiche on the portal")
    await page.goto(_at(committee.SUBSCRIBE, series_id=c.series_id))
    await _heading(page, "Calendrier du comité CTO de Laon")
    await audit(page, mode, "the subscribe page")
    await page.get_by_role("button", name="Créer mon lien").click()
    await expect(page.get_by_role("button", name="Copier le lien").first).to_be_visible()
    await audit(page, mode, "the subscribe page with a new link")


@pytest.mark.parametrize("mode", AUDITED)
async def test_person_file(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """The person's page (/rdv/mon-dossier) through their invitation link."""
    invited = await invited_person(db, clock, app)
    page = await new_page(mode)
    await page.goto(f"/i/{invited.token}")
    await _answer(page, "DUP")
    await page.goto(invitation_paths.FILE)
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await audit(page, mode, "the person's file")
