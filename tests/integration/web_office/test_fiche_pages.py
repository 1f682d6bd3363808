"""A referent's fiches (committees/pages_fiches.py): two fiches before the deadline for the
next open session, a third after it refused with the next open session named, nothing written;
editing and withdrawing until the deadline then read only; consent required, an urgent fiche
needs its reason; another structure's referent gets 404, the list shows status and decision."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, login, post_form
from tests.integration.web_office.office_support import set_password as with_password
from tests.support.cto import Cto, agent

from rdv_spie.agents.models import Role
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import paths
from rdv_spie.committees.models import CtoRequest, RequestStatus
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey
from rdv_spie.territories.models import Organisation, OrganisationKind

CONSENT = (
    "La personne a donné son accord pour que sa situation soit présentée au comité, "
    "et sait quelles informations seront partagées."
)


def url(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


@pytest.fixture
async def cto(client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office) -> Cto:
    s = office.s
    async with db.unit_of_work(clock=clock) as uow:
        other_org = Organisation(
            territory_id=s.territory_id, name="Mission locale", kind=OrganisationKind.MISSION_LOCALE
        )
        uow.session.add(other_org)
        await uow.session.flush()
        other = await agent(uow, s, other_org.id, "referentml", Role.REFERENT)
    c = Cto(s, client, db, clock, s.organisation_id, [], other_org.id, other)
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
    return c


async def journey_of(db: Database, clock: FrozenClock, person: uuid.UUID) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        found = await uow.session.scalar(select(Journey.id).where(Journey.person_id == person))
        assert found is not None
        return found


async def count(db: Database, clock: FrozenClock) -> int:
    async with db.unit_of_work(clock=clock) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(CtoRequest)) or 0)


async def stored(db: Database, clock: FrozenClock, request_id: str) -> CtoRequest:
    async with db.unit_of_work(clock=clock) as uow:
        found = await uow.session.get(CtoRequest, uuid.UUID(request_id))
        assert found is not None
        return found


def fiche_form(session_id: str, **extra: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "session_id": session_id,
        "thematics": ["logement", "mobilite"],
        "summary": "Cherche un logement près d'une ligne de bus.",
        "already_tried": "Demande de logement social déposée.",
        "consent": "oui",
    }
    data.update(extra)
    return data


async def send(
    client: httpx.AsyncClient, journey: uuid.UUID, data: dict[str, str | list[str]]
) -> httpx.Response:
    new = f"{paths.FICHE_NEW}?parcours={journey}"
    return await post_form(client, new, data, token_from=new)


async def test_two_fiches_then_one_after_the_deadline(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    a, b, c = await cto.add_people(3)
    sessions = await cto.sessions()
    first, second = sessions[0], sessions[1]
    assert (await login(client, office.email)).status_code == 303

    # The search among the people the referent follows leads to the form.
    listing = await client.get(paths.FICHES, params={"nom": "Nom0"})
    assert listing.status_code == 200
    journey_a = await journey_of(db, clock, a)
    assert f"parcours={journey_a}" in listing.text
    assert f"parcours={await journey_of(db, clock, b)}" not in listing.text

    form = await client.get(paths.FICHE_NEW, params={"parcours": str(journey_a)})
    assert form.status_code == 200
    page = body(form)
    assert CONSENT in page
    assert "Prénom0 Nom0" in page
    assert f'value="{first["id"]}" checked' in page  # the next open session, preselected
    assert "Modifiable jusqu'au lundi 07/12/2026 à 14h" in page  # the deadline, Paris time
    assert "Difficultés à lire, à écrire ou à utiliser le numérique" in page

    ids = []
    for person in (a, b):
        r = await send(client, await journey_of(db, clock, person), fiche_form(first["id"]))
        assert r.status_code == 303, r.text
        ids.append(r.headers["location"].split("/")[-1].split("?")[0])
    fiche = await stored(db, clock, ids[0])
    assert fiche.consent_text == CONSENT
    assert fiche.organisation_id == office.s.organisation_id
    assert fiche.journey_id == journey_a
    assert str(fiche.session_id) == first["id"]

    # After the deadline: refused, the next open session named, nothing written.
    deadline = datetime.fromisoformat(first["deadline_at"])
    clock.advance(deadline - clock.now() + timedelta(minutes=1))
    assert (await login(client, office.email)).status_code == 303  # days later
    r = await send(client, await journey_of(db, clock, c), fiche_form(first["id"]))
    assert r.status_code == 422
    page = body(r)
    assert "La date limite pour la séance du jeudi 10/12/2026 à 8h30 est passée." in page
    assert "La prochaine séance ouverte est celle du jeudi 24/12/2026 à 8h30" in page
    assert "date limite le lundi 21/12/2026 à 14h" in page
    assert await count(db, clock) == 2
    # The form now offers the next session first; a link to the closed one says so too.
    again = await client.get(
        paths.FICHE_NEW,
        params={"parcours": str(await journey_of(db, clock, c)), "seance": first["id"]},
    )
    assert again.status_code == 422
    assert "La prochaine séance ouverte est celle du jeudi 24/12/2026 à 8h30" in body(again)
    assert f'value="{second["id"]}" checked' in again.text

    # The fiche is read only after the deadline; the list shows its status in French.
    shown = body(await client.get(url(paths.FICHE, request_id=ids[0])))
    assert "La date limite est passée : la fiche ne peut plus être modifiée ni retirée." in shown
    assert 'name="summary"' not in shown
    edit = await post_form(
        client,
        url(paths.FICHE, request_id=ids[0]),
        {"thematics": ["sante"], "summary": "Trop tard."},
        token_from=paths.FICHES,
    )
    assert edit.status_code == 422
    assert (await stored(db, clock, ids[0])).summary.startswith("Cherche")
    listed = body(await client.get(paths.FICHES))
    assert listed.count("Envoyée") == 2
    assert "Prénom1 Nom1" in listed


async def test_edit_withdraw_and_decision_shown(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    (a,) = await cto.add_people(1)
    first = (await cto.sessions())[0]
    assert (await login(client, office.email)).status_code == 303
    r = await send(client, await journey_of(db, clock, a), fiche_form(first["id"]))
    assert r.status_code == 303, r.text
    fiche_id = r.headers["location"].split("/")[-1].split("?")[0]
    fiche_url = url(paths.FICHE, request_id=fiche_id)
    page = body(await client.get(r.headers["location"]))
    assert "La fiche est envoyée." in page
    assert "Modifiable jusqu'au lundi 07/12/2026 à 14h" in page

    r = await post_form(
        client,
        fiche_url,
        {
            "thematics": ["sante", "garde_enfant"],
            "summary": "Nouvelle situation.",
            "urgent": "oui",
            "urgent_reason": "Expulsion la semaine prochaine.",
        },
        token_from=fiche_url,
    )
    assert r.status_code == 303, r.text
    fiche = await stored(db, clock, fiche_id)
    assert fiche.thematics == ["garde_enfant", "sante"]
    assert fiche.summary == "Nouvelle situation."
    assert fiche.urgent and fiche.urgent_reason == "Expulsion la semaine prochaine."
    assert fiche.already_tried is None

    # Urgent without its reason: refused, nothing changed.
    r = await post_form(
        client,
        fiche_url,
        {"thematics": ["sante"], "summary": "Autre.", "urgent": "oui", "urgent_reason": ""},
        token_from=fiche_url,
    )
    assert r.status_code == 422
    assert "indiquez la raison de l'urgence" in body(r)
    assert (await stored(db, clock, fiche_id)).summary == "Nouvelle situation."

    r = await post_form(
        client, url(paths.FICHE_WITHDRAW, request_id=fiche_id), {}, token_from=fiche_url
    )
    assert r.status_code == 303, r.text
    assert (await stored(db, clock, fiche_id)).status == RequestStatus.WITHDRAWN
    assert "Retirée" in body(await client.get(paths.FICHES))
    r = await post_form(
        client, url(paths.FICHE_WITHDRAW, request_id=fiche_id), {}, token_from=fiche_url
    )
    assert r.status_code == 422

    # A decided fiche shows the decision and the next steps in the list.
    (b,) = await cto.add_people(1)
    r = await send(client, await journey_of(db, clock, b), fiche_form(first["id"]))
    decided_id = r.headers["location"].split("/")[-1].split("?")[0]
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoRequest, uuid.UUID(decided_id))
        assert row is not None
        row.status = RequestStatus.DECIDED
        row.decision = "Orientation vers un bailleur social."
        row.next_steps = "Rendez-vous avec le bailleur."
    listed = body(await client.get(paths.FICHES))
    assert "Décidée" in listed
    assert "Orientation vers un bailleur social." in listed
    assert "Rendez-vous avec le bailleur." in listed


async def test_consent_and_urgent_reason_required(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    (a,) = await cto.add_people(1)
    first = (await cto.sessions())[0]
    journey = await journey_of(db, clock, a)
    assert (await login(client, office.email)).status_code == 303
    data = fiche_form(first["id"], urgent="oui", urgent_reason="", thematics=[], summary="")
    del data["consent"]
    r = await send(client, journey, data)
    assert r.status_code == 422
    page = body(r)
    assert "Le formulaire contient 4 erreurs" in page
    assert "Cochez l'accord de la personne" in page
    assert "indiquez la raison de l'urgence" in page
    assert "Cochez au moins une thématique." in page
    assert "Décrivez la situation" in page
    assert 'id="consent" name="consent" value="oui" required aria-invalid="true"' in page
    assert await count(db, clock) == 0


async def test_another_structure_gets_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    (a,) = await cto.add_people(1)
    first = (await cto.sessions())[0]
    journey = await journey_of(db, clock, a)
    r = await cto.submit(first["id"], a)
    assert r.status_code == 201, r.text
    fiche_id = r.json()["id"]
    email = await with_password(db, clock, cto.other_referent_id)
    assert (await login(client, email)).status_code == 303
    assert (await client.get(url(paths.FICHE, request_id=fiche_id))).status_code == 404
    assert (await client.get(paths.FICHE_NEW, params={"parcours": str(journey)})).status_code == 404
    assert (await client.get(paths.FICHE_NEW, params={"parcours": "x"})).status_code == 404
    r = await post_form(
        client, url(paths.FICHE_WITHDRAW, request_id=fiche_id), {}, token_from=paths.FICHES
    )
    assert r.status_code == 404
    r = await send_from(client, journey, fiche_form(first["id"]))
    assert r.status_code == 404
    assert await count(db, clock) == 1
    assert "Prénom0" not in body(await client.get(paths.FICHES))
    assert (await stored(db, clock, fiche_id)).status == RequestStatus.SUBMITTED


async def send_from(
    client: httpx.AsyncClient, journey: uuid.UUID, data: dict[str, str | list[str]]
) -> httpx.Response:
    return await post_form(
        client, f"{paths.FICHE_NEW}?parcours={journey}", data, token_from=paths.FICHES
    )
