"""The partners' portal: a partner signs in, sees their sessions but no fiche until they
accept the current charter (version and instant recorded), then the frozen agenda without
names, and a fiche with its read in the audit trail; a member of another series gets 404."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, csrf, login, set_password
from tests.support.cto import Cto, agent

from rdv_spie.agents.models import Role
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import charter, cycle
from rdv_spie.committees.models import CtoMember, CtoRequest
from rdv_spie.db.uow import Database

CANARY = "Zebulonportail"


def url(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


async def _series(c: Cto, name: str) -> uuid.UUID:
    r = await c.client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(c.s.territory_id),
            "organisation_id": str(c.s.organisation_id),
            "name": name,
            "starts_on": "2026-12-10",
            "place_id": str(c.s.place_ids[0]),
        },
    )
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


async def test_a_partner_accepts_the_charter_then_reads_the_frozen_agenda(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    s = office.s
    async with db.unit_of_work(clock=clock) as uow:
        partner = await agent(uow, s, s.organisation_id, "portail", Role.PARTNER)
        elsewhere = await agent(uow, s, s.organisation_id, "ailleurs", Role.PARTNER)
    c = Cto(
        s, client, db, clock, s.organisation_id, [partner], s.organisation_id, s.referent_ids[0]
    )
    c.series_id = await _series(c, "CTO de Laon")
    other_series = await _series(c, "CTO de Chauny")
    for series_id, who in ((c.series_id, partner), (other_series, elsewhere)):
        r = await client.post(
            f"/api/v1/cto-series/{series_id}/members",
            headers=c.animator,
            json={"agent_id": str(who)},
        )
        assert r.status_code == 201, r.text
    (person,) = await c.add_people(1, last_name=CANARY)
    session = (await c.sessions())[0]
    r = await c.submit(session["id"], person, summary=f"Situation de {CANARY}.")
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    assert await cycle.freeze_due(db, clock) >= 1
    agenda = url("/agent/partenaire/seances/{session_id:uuid}", session_id=session["id"])
    fiche = url("/agent/partenaire/fiches/{request_id:uuid}", request_id=request_id)

    # A partner-only agent lands on the portal; before the charter: sessions, no fiche.
    email = await set_password(db, clock, partner)
    assert (await login(client, email)).status_code == 303
    home = await client.get("/agent")
    assert home.headers["location"] == "/agent/partenaire"
    portal = body(await client.get("/agent/partenaire"))
    assert "acceptez la charte" in portal and "CTO de Laon" in portal
    assert CANARY not in portal and agenda not in portal
    for page in (agenda, fiche):
        refused = await client.get(page)
        assert refused.status_code == 403 and CANARY not in refused.text

    # Accepting: the box must be ticked; then the version and the instant are recorded.
    text = body(await client.get("/agent/partenaire/charte"))
    assert f"Version {charter.CURRENT_VERSION}" in text
    unticked = await client.post("/agent/partenaire/charte", data={"csrf_token": csrf(text)})
    assert unticked.status_code == 422
    accepted = await client.post(
        "/agent/partenaire/charte", data={"csrf_token": csrf(text), "accepte": "oui"}
    )
    assert accepted.status_code == 303
    async with db.unit_of_work(clock=clock, write=False) as uow:
        sitting = await uow.session.scalar(
            select(CtoMember).where(
                CtoMember.agent_id == partner, CtoMember.series_id == c.series_id
            )
        )
        assert sitting is not None
        assert (sitting.charter_version, sitting.charter_accepted_at) == (
            charter.CURRENT_VERSION,
            clock.now(),
        )

    # The frozen agenda: number, thematics, structure; no name. The fiche: the name, and a
    # line in the person's read trail.
    listed = await client.get(agenda)
    assert listed.status_code == 200
    assert "Logement" in listed.text and CANARY not in listed.text
    async with db.unit_of_work(clock=clock, write=False) as uow:
        number = await uow.session.scalar(
            select(CtoRequest.agenda_number).where(CtoRequest.id == uuid.UUID(request_id))
        )
        reads_before = await uow.session.scalar(
            select(func.count()).select_from(FileRead).where(FileRead.person_id == person)
        )
    assert f"Lire la fiche n° {number}" in listed.text
    opened = await client.get(fiche)
    assert opened.status_code == 200 and CANARY in opened.text
    async with db.unit_of_work(clock=clock, write=False) as uow:
        reads = await uow.session.scalars(
            select(FileRead.agent_id).where(FileRead.person_id == person)
        )
        readers = list(reads)
    assert len(readers) == (reads_before or 0) + 1 and partner in readers

    # A member of another series: the same 404 as an unknown session.
    client.cookies.clear()
    assert (await login(client, await set_password(db, clock, elsewhere))).status_code == 303
    for page in (agenda, fiche):
        assert (await client.get(page)).status_code == 404
