"""The territory team in a real browser, with JavaScript and without it, on both engines.

An animator creates a cohort, uploads a Windows-1252 CSV with bad rows, sees the preview with
each rejected line, tells which field an unknown column gives, imports, then an .xlsx; finds
the people in the journeys, closes one journey, invites another person again, opens the
indicators and downloads their CSV. An admin adds a referent, who follows the e-mailed link
(sent through SMTP to a loopback server), chooses a password, logs in and sees their agenda.
"""

from __future__ import annotations

import re
import uuid

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect
from sqlalchemy import func, select
from tests.e2e.browser import Mode, NewPage, Shot
from tests.e2e.mail import Mailbox
from tests.e2e.steps import AGENDA, COHORTS, CSV_ROWS, heading, log_in, windows_1252_csv
from tests.integration.web_office.office_support import set_password
from tests.support import scenario as sc
from tests.support import spreadsheets

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications.models import Notification
from rdv_spie.people import imports
from rdv_spie.people.models import Journey, Person

FLOWS: tuple[Mode, ...] = ("js", "nojs")
COHORT = "Jeunes 18-30 ans – Laon"
NEW_PASSWORD = "une phrase de passe bien longue"
REFRESHED_WITHIN_MS = 8_000  # the progress page reloads itself every 2 seconds

XLSX_ROWS: list[list[spreadsheets.Cell]] = [
    ["Nom", "Prénom", "Téléphone portable", "Adresse e-mail"],
    ["Benoît", "Maëlle", "06 22 33 44 55", "maelle@exemple.fr"],
]


async def _upload(page: Page, name: str, mime: str, data: bytes) -> None:
    """Step one: choose the file, send it; the preview shows (nothing written yet)."""
    await page.get_by_label("Fichier des personnes").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    await page.get_by_role("button", name="Voir ce que l'import va faire").click()
    await expect(page).to_have_url(re.compile(r"/agent/imports/[0-9a-f-]+(\?.*)?$"))


async def _import(page: Page, db: Database, clock: FrozenClock) -> None:
    """Step two: confirm; the page shows the import under way; the worker's job runs it and
    the page, reloading itself (no script needed), ends on its summary."""
    await page.get_by_role("button", name=re.compile(r"^Importer \d+ personnes?$")).click()
    await expect(page.get_by_role("progressbar")).to_be_visible()
    found = re.search(r"/agent/imports/([0-9a-f-]+)", page.url)
    assert found is not None, page.url
    assert await imports.run(db=db, clock=clock, import_id=uuid.UUID(found.group(1))) == "done"
    await expect(page.get_by_role("status")).to_contain_text(
        "L'import est terminé", timeout=REFRESHED_WITHIN_MS
    )


NEW, UPDATED, UNCHANGED, REJECTED = (
    "Nouvelles personnes",
    "Personnes déjà connues, mises à jour (téléphone, e-mail…)",
    "Personnes déjà connues et à jour",
    "Lignes refusées",
)


async def _counts(page: Page) -> dict[str, int]:
    """The import's counts, by their row heading (what it would do, or did)."""
    table = page.locator("table.import-counts")
    labels = await table.get_by_role("rowheader").all_inner_texts()
    values = await table.locator("td").all_inner_texts()
    return {k.strip(): int(v) for k, v in zip(labels, values, strict=True)}


async def _rejected_lines(page: Page) -> list[str]:
    table = page.get_by_role("table", name="Lignes refusées, avec la raison")
    return [t.strip() for t in await table.get_by_role("rowheader").all_inner_texts()]


async def _people(db: Database, clock: FrozenClock) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Person)) or 0)


@pytest.mark.parametrize("mode", FLOWS)
async def test_an_animator_imports_people_and_follows_them(
    new_page: NewPage, shot: Shot, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    email = await set_password(db, clock, s.animator_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)
    await heading(page, "Cohortes")

    # A new cohort: its first appointment is the territory's "Premier rendez-vous".
    await page.get_by_role("link", name="Nouvelle cohorte").click()
    await page.get_by_label("Nom de la cohorte").fill(COHORT)
    await page.get_by_label("Motif du premier rendez-vous").select_option(
        label="Premier rendez-vous"
    )
    await page.get_by_role("button", name="Créer la cohorte").click()
    await heading(page, f"Cohorte {COHORT}")
    await expect(page.get_by_role("status")).to_be_visible()
    await shot(page, "1-cohort")

    # Step one with the CSV: nothing written; the unknown column is not read, so Hélène (no
    # e-mail) has no contact; lines 4 and 5 are refused too, each with its reason.
    await page.get_by_role("link", name="Importer des personnes").click()
    await _upload(page, "personnes.csv", "text/csv", windows_1252_csv(CSV_ROWS))
    await heading(page, "Import du fichier personnes.csv")
    assert await _counts(page) == {NEW: 1, UPDATED: 0, UNCHANGED: 0, REJECTED: 3}
    assert await _rejected_lines(page) == ["2", "4", "5"]
    await shot(page, "2-preview")
    assert await _people(db, clock) == 0

    # The column is the phone: counted again, Hélène is in; lines 4 and 5 are still refused.
    column = page.get_by_label("Contenu de la colonne Numéro à joindre")
    await column.select_option(value="phone")
    await page.get_by_role("button", name="Recompter avec ces colonnes").click()
    await expect(page.get_by_role("status")).to_contain_text("recomptées")
    assert await _counts(page) == {NEW: 2, UPDATED: 0, UNCHANGED: 0, REJECTED: 2}
    assert await _rejected_lines(page) == ["4", "5"]
    await expect(column).to_have_value("phone")
    await shot(page, "3-mapping")
    assert await _people(db, clock) == 0

    await _import(page, db, clock)
    await expect(page.get_by_role("status")).to_contain_text("L'import est terminé")
    assert await _counts(page) == {NEW: 2, UPDATED: 0, UNCHANGED: 0, REJECTED: 2}
    await shot(page, "4-summary")
    assert await _people(db, clock) == 2

    # The .xlsx: one more person.
    await page.get_by_role("link", name="Revenir à la cohorte").click()
    await page.get_by_role("link", name="Importer des personnes").click()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await _upload(page, "personnes.xlsx", xlsx, spreadsheets.xlsx(XLSX_ROWS))
    assert await _counts(page) == {NEW: 1, UPDATED: 0, UNCHANGED: 0, REJECTED: 0}
    await _import(page, db, clock)
    await expect(page.get_by_role("status")).to_contain_text("L'import est terminé")
    assert await _people(db, clock) == 3

    # The journeys: the three people, Hélène's name read right from Windows-1252.
    await page.get_by_role("link", name="Parcours", exact=True).click()
    await heading(page, "Parcours")
    people = page.get_by_role("table")
    for name in ("Hélène Dupré", "Zoé Lefèvre", "Maëlle Benoît"):
        await expect(people).to_contain_text(name)
    await shot(page, "5-journeys")

    # Zoé found work: her journey is closed and leaves the list.
    await page.get_by_role("link", name="Zoé Lefèvre").click()
    await heading(page, "Parcours de Zoé Lefèvre")
    await page.get_by_label("A trouvé un emploi ou une formation").check()
    await page.get_by_role("button", name="Clore le parcours").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await expect(page.get_by_role("button", name="Clore le parcours")).to_have_count(0)
    await page.get_by_role("link", name="Retour aux parcours").click()
    await expect(page.get_by_role("table")).not_to_contain_text("Zoé Lefèvre")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        closed = await uow.session.scalar(
            select(func.count()).select_from(Journey).where(Journey.closed_at.is_not(None))
        )
    assert closed == 1

    # Hélène is invited again now: a message waits in the outbox for her.
    await page.get_by_role("link", name="Hélène Dupré").click()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        before = await uow.session.scalar(select(func.count()).select_from(Notification))
    await page.get_by_role("button", name="Relancer maintenant").click()
    await expect(page.get_by_role("status")).to_contain_text("La relance est enregistrée")
    await expect(page.locator("ol.timeline")).to_contain_text("Invitation par SMS")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        after = await uow.session.scalar(select(func.count()).select_from(Notification))
    assert (after or 0) > (before or 0)
    await shot(page, "6-invited-again")

    # The indicators, and the same figures as CSV.
    await page.get_by_role("link", name="Indicateurs", exact=True).click()
    await heading(page, re.compile(r"^Indicateurs"))
    await shot(page, "7-indicators")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=re.compile(r"Télécharger")).click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    text = path.read_bytes().decode("utf-8-sig")
    assert ";" in text.splitlines()[0] and len(text.splitlines()) > 1


@pytest.mark.parametrize("mode", FLOWS)
async def test_an_admin_adds_a_referent_who_chooses_a_password(
    new_page: NewPage, shot: Shot, mode: Mode, db: Database, clock: FrozenClock, mailbox: Mailbox
) -> None:
    s = await sc.build(db, clock)
    email = await set_password(db, clock, s.admin_id)
    page = await log_in(new_page, email, mode, lands=COHORTS)

    await page.get_by_role("link", name="Administration", exact=True).click()
    await heading(page, "Administration")
    await page.get_by_role("link", name="Agents de la structure").click()
    await page.get_by_role("link", name="Ajouter un agent").click()
    await page.get_by_label("Prénom").fill("Inès")
    await page.get_by_label("Nom", exact=True).fill("Moreau")
    await page.get_by_label("Adresse e-mail professionnelle").fill("ines.moreau@test.test")
    await page.get_by_role("radio", name=re.compile(r"^Référent ou référente")).check()
    await page.get_by_role("button", name="Ajouter et envoyer le lien").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("Inès Moreau")
    await shot(page, "1-agent-added")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        agent = await uow.session.scalar(
            select(Agent).where(Agent.email == "ines.moreau@test.test")
        )
        assert agent is not None and agent.password_hash is None
        role = await uow.session.scalar(
            select(Membership.role).where(Membership.agent_id == agent.id)
        )
    assert role == Role.REFERENT

    # The e-mail, sent through SMTP: its link opens the password page in a new browser.
    [message] = await mailbox.deliver(to="ines.moreau@test.test")
    link = mailbox.link(message, "/agent/mot-de-passe")
    referent = await new_page(mode)
    await referent.goto(link)
    await heading(referent, "Choisir votre mot de passe")
    await referent.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    await referent.get_by_label("Le même mot de passe, une deuxième fois").fill(NEW_PASSWORD)
    await referent.get_by_role("button", name="Enregistrer mon mot de passe").click()
    await heading(referent, "Votre mot de passe est enregistré")
    await shot(referent, "2-password-chosen")

    # The link served once.
    await referent.goto(link)
    await expect(referent.get_by_role("heading", level=1)).not_to_have_text(
        "Choisir votre mot de passe"
    )

    page = await log_in(
        new_page, "ines.moreau@test.test", mode, password=NEW_PASSWORD, lands=AGENDA
    )
    await heading(page, re.compile(r"^Agenda"))
    await shot(page, "3-agenda")
