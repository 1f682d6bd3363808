"""A whole committee cycle in the browser on a frozen clock (issue 16), with and without
JavaScript: a referent sends two fiches before the deadline and a third after it (refused, the
next open session named); the desk shows the overdue request in words and the team acknowledges
one; eleven fiches meet a capacity of ten and the freeze carries the eleventh over; once the
session is held the team records a decision, and the person's page (through their invitation
link) shows the next steps. Most fiches are sent through the API, to keep each test short.

After the freeze a partner of the series signs in on the portal: no agenda before the charter,
accepts it, reads the frozen agenda without names, opens a fiche (a line in the person's read
trail) and makes their calendar link (copied with the button with JavaScript, selected as
text without)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import expect
from sqlalchemy import select
from tests.e2e.browser import Mode, NewPage
from tests.e2e.steps import COHORTS, PORTAL, invited_person, log_in
from tests.integration.web_office.office_support import set_password
from tests.support.cto import Cto, agent

from rdv_spie.agents.models import Role
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import cycle
from rdv_spie.committees import paths as committee
from rdv_spie.committees.models import CtoRequest, RequestStatus
from rdv_spie.db.uow import Database
from rdv_spie.invitations import paths as invitation_paths
from rdv_spie.people.models import Journey

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def _at(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


@pytest.mark.parametrize("mode", ["js", "nojs"])
async def test_committee_cycle(
    new_page: NewPage, mode: Mode, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)  # Camille Dupré, followed by the structure
    s = invited.s
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
        async with db.unit_of_work(clock=clock) as uow:
            partner = await agent(uow, s, s.organisation_id, "partenaire", Role.PARTNER)
        member = await client.post(
            f"/api/v1/cto-series/{c.series_id}/members",
            headers=c.animator,
            json={"agent_id": str(partner)},
        )
        assert member.status_code == 201, member.text
        others = await c.add_people(10)
        session = (await c.sessions())[0]
        # The first seeded fiche waits 75 h: overdue on the 72 h clock.
        assert (await c.submit(session["id"], others[0])).status_code == 201
        clock.advance(timedelta(hours=75))
        for person in others[1:8]:
            assert (await c.submit(session["id"], person)).status_code == 201
            clock.advance(timedelta(minutes=1))  # first come, first served
    async with db.unit_of_work(clock=clock) as uow:
        journeys = {
            person: await uow.session.scalar(select(Journey.id).where(Journey.person_id == person))
            for person in (invited.person_id, others[8], others[9])
        }

    # The referent sends two fiches in the browser (Camille's is the 9th, then the 10th).
    referent = await log_in(new_page, await set_password(db, clock, s.referent_ids[0]), mode)
    for person in (invited.person_id, others[8]):
        clock.advance(timedelta(minutes=1))
        await referent.goto(f"{committee.FICHE_NEW}?parcours={journeys[person]}")
        await referent.get_by_label("Logement", exact=True).check()
        await referent.locator("#summary").fill("Cherche un logement près du bus.")
        await referent.locator("#consent").check()
        await referent.get_by_role("button", name="Envoyer la fiche").click()
        await expect(referent.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"^Fiche CTO de")
        )
    # An eleventh through the API (urgent: first on the agenda), for a capacity of ten.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as client:
        c.client = client
        eleventh = await c.add_people(1)
        urgent = await c.submit(
            session["id"], eleventh[0], urgent=True, urgent_reason="Expulsion prévue"
        )
        assert urgent.status_code == 201, urgent.text

    # The team's desk: the overdue request said in words, acknowledged with one button.
    team_email = await set_password(db, clock, s.admin_id)
    team = await log_in(new_page, team_email, mode, lands=COHORTS)
    await team.goto(committee.COMMITTEES)
    await expect(team.locator("main")).to_contain_text("En retard de")
    await team.get_by_role("button", name=re.compile(r"^Accuser réception")).first.click()
    await expect(team.get_by_role("status")).to_contain_text("Le référent en est prévenu")

    # After the deadline, a third fiche is refused with the next open session named.
    deadline = datetime.fromisoformat(session["deadline_at"])
    clock.advance(deadline - clock.now() + timedelta(minutes=1))
    referent = await log_in(new_page, await set_password(db, clock, s.referent_ids[0]), mode)
    # (a link to the closed session, as a form kept open since before the deadline would post)
    await referent.goto(
        f"{committee.FICHE_NEW}?parcours={journeys[others[9]]}&seance={session['id']}"
    )
    main = referent.locator("main")
    await expect(main).to_contain_text("La prochaine séance ouverte est celle du")

    # The freeze: ten on the agenda, the eleventh (the last by time) carried over.
    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    assert await cycle.freeze_due(db, clock) >= 1
    team = await log_in(new_page, team_email, mode, lands=COHORTS)
    await team.goto(_at(committee.SESSION, session_id=session["id"]))
    await expect(team.locator("main")).to_contain_text("Ordre du jour arrêté")
    await expect(team.locator("main")).to_contain_text("Reportées à la séance du")
    async with db.unit_of_work(clock=clock) as uow:
        carried = (
            await uow.session.scalars(
                select(CtoRequest.person_id).where(CtoRequest.status == RequestStatus.CARRIED_OVER)
            )
        ).all()
    assert list(carried) == [others[8]]  # the last fiche sent before the deadline

    # A partner: sessions but no agenda until the charter; then the agenda without names, a
    # fiche (its read in the person's trail), and their own calendar link.
    portal = await log_in(new_page, await set_password(db, clock, partner), mode, lands=PORTAL)
    await expect(portal.locator("main")).to_contain_text("acceptez la charte")
    agenda = _at(committee.PORTAL_SESSION, session_id=session["id"])
    assert (await portal.goto(agenda)).status == 403  # type: ignore[union-attr]
    await portal.goto(committee.CHARTER)
    await portal.get_by_label("J'ai lu la charte et je m'engage à la respecter.").check()
    await portal.get_by_role("button", name="J'accepte la charte").click()
    await expect(portal.get_by_role("status")).to_contain_text("votre accord avec la charte")
    await portal.get_by_role("link", name=re.compile(r"^Ordre du jour de la séance")).first.click()
    table = portal.get_by_role("table")
    await expect(table).to_contain_text("Logement")
    await expect(portal.locator("main")).not_to_contain_text("Dupré")
    async with db.unit_of_work(clock=clock) as uow:
        number = await uow.session.scalar(
            select(CtoRequest.agenda_number).where(CtoRequest.person_id == invited.person_id)
        )
    await portal.get_by_role("link", name=f"Lire la fiche n° {number}").click()
    await expect(portal.locator("main")).to_contain_text("Dupré")
    async with db.unit_of_work(clock=clock) as uow:
        readers = (
            await uow.session.scalars(
                select(FileRead.agent_id).where(FileRead.person_id == invited.person_id)
            )
        ).all()
    assert partner in readers
    await portal.goto(committee.PORTAL)
    await portal.get_by_role("link", name="S'abonner au calendrier du comité CTO de Laon").click()
    await portal.get_by_role("button", name="Créer mon lien").click()
    webcal = portal.get_by_label(re.compile(r"^Lien d'abonnement \(webcal\)"))
    link = await webcal.input_value()
    assert link.startswith("webcal://") and link.endswith(".ics")
    copy = portal.get_by_role("button", name="Copier le lien")
    if mode == "nojs":
        await expect(copy.first).to_be_hidden()  # the link stays selectable text
        await webcal.select_text()
    else:
        await copy.first.click()
        await expect(portal.locator(".copy-status")).to_contain_text("Lien")
    feed = "/" + link.split("/", 3)[3]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as client:
        polled = await client.get(feed)
    assert polled.status_code == 200 and "CTO de Laon" in polled.text
    assert "Dupré" not in polled.text

    # Held: the team records Camille's decision; her page shows the next steps.
    clock.advance(datetime.fromisoformat(session["ends_at"]) - clock.now() + timedelta(hours=1))
    team = await log_in(new_page, team_email, mode, lands=COHORTS)
    await team.goto(_at(committee.SESSION, session_id=session["id"]))
    await team.get_by_label("Décision du comité pour Camille Dupré").fill(
        "Orientée vers le bailleur"
    )
    async with db.unit_of_work(clock=clock) as uow:
        camille = await uow.session.scalar(
            select(CtoRequest.id).where(CtoRequest.person_id == invited.person_id)
        )
    await team.locator(f"#suite-{camille}").fill("Rendez-vous avec le bailleur social.")
    await team.get_by_role("button", name="Enregistrer la décision pour Camille Dupré").click()
    await expect(team.locator("main")).to_contain_text("Orientée vers le bailleur")

    person = await new_page(mode)
    await person.goto(f"/i/{invited.token}")
    await person.get_by_label("Les 3 premières lettres de votre nom de famille").fill("DUP")
    await person.get_by_role("button", name="Continuer").click()
    await person.goto(invitation_paths.FILE)
    await expect(person.locator("main")).to_contain_text("Rendez-vous avec le bailleur social.")
