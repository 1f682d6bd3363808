"""One back office, a menu by role: an agent acts for one organisation at a time (the first
by name until they choose), sees the menu of their role there, and sees only what that
organisation may see."""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    act_for,
    add_journey,
    body,
    csrf,
    login,
    set_password,
)

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.territories.models import Organisation

_MENU = re.compile(r'<nav aria-label="Menu de l\'espace agent">(.*?)</nav>', re.S)


def menu(page: str) -> list[str]:
    """The words of the menu's links."""
    found = _MENU.search(page)
    assert found, "no menu"
    return re.findall(r"<a [^>]*>([^<]+)</a>", found.group(1))


async def test_the_menu_follows_the_role_in_the_organisation_acted_for(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    s = office.s
    assert (await login(client, office.email)).status_code == 303
    referent = menu(body(await client.get("/agent/agenda")))
    assert "Agenda" in referent and "Cohortes et imports" not in referent
    assert "Administration" not in referent
    await client.post(
        "/agent/deconnexion", data={"csrf_token": csrf(body(await client.get("/agent/agenda")))}
    )

    animator_email = await set_password(db, clock, s.animator_id)
    first = await login(client, animator_email)
    assert first.status_code == 303
    home = await client.get("/agent")
    assert home.status_code == 303 and home.headers["location"] == "/agent/cohortes"
    animator = menu(body(await client.get("/agent/agenda")))
    assert "Cohortes et imports" in animator and "Indicateurs" in animator
    assert "Administration" not in animator
    await client.post(
        "/agent/deconnexion", data={"csrf_token": csrf(body(await client.get("/agent/agenda")))}
    )

    admin_email = await set_password(db, clock, s.admin_id)
    assert (await login(client, admin_email)).status_code == 303
    assert "Administration" in menu(body(await client.get("/agent/agenda")))


async def test_an_agent_of_two_organisations_acts_for_one_at_a_time(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """Referent 1 of Laon is also the animator of another territory's structure: until she
    chooses, she acts for the first by name (as a referent: no team menu); acting for the
    other, she is its animator, and Laon's people are no longer hers to see."""
    s, other = office.s, office.other
    agent_id = s.referent_ids[0]
    await add_journey(
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=office.cohort_id,
        last_name="Laonnais",
        appointment_by_on=date(2026, 12, 5),
        referent_id=agent_id,
    )
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            Membership(agent_id=agent_id, organisation_id=other.organisation_id, role=Role.ANIMATOR)
        )
    assert (await login(client, office.email)).status_code == 303
    page = body(await client.get("/agent/agenda"))
    assert "Changer de structure" in page
    async with db.unit_of_work(clock=clock, write=False) as uow:
        names = {
            org: await uow.session.scalar(select(Organisation.name).where(Organisation.id == org))
            for org in (s.organisation_id, other.organisation_id)
        }
    first = min(names, key=lambda org: names[org] or "")
    assert f'<span class="acting">{names[first]}</span>' in page  # until she chooses
    await act_for(client, s.organisation_id)
    page = body(await client.get("/agent/agenda"))
    assert "Cohortes et imports" not in menu(page)
    assert "Laonnais" in body(await client.get("/agent/personnes"))
    choose = body(await client.get("/agent/structure"))
    assert choose.count('name="organisation_id"') == 2
    await act_for(client, other.organisation_id)
    page = body(await client.get("/agent/agenda"))
    assert "Cohortes et imports" in menu(page)
    # Laon's journeys were hers as a referent of Laon; acting for the other structure (of
    # another territory) they are not hers to see.
    assert "Laonnais" not in body(await client.get("/agent/personnes"))
    # The choice is kept by the server, not the browser: a second request still acts for it.
    assert "Cohortes et imports" in menu(body(await client.get("/agent/disponibilites")))


async def test_one_cannot_act_for_an_organisation_one_does_not_work_for(
    client: httpx.AsyncClient, office: Office
) -> None:
    assert (await login(client, office.email)).status_code == 303
    page = body(await client.get("/agent/structure"))
    for stranger in (str(office.other.organisation_id), str(uuid.uuid4()), "pas-un-id"):
        refused = await client.post(
            "/agent/structure", data={"csrf_token": csrf(page), "organisation_id": stranger}
        )
        assert refused.status_code == 422
        assert "Choisissez une valeur dans la liste." in body(refused)


async def test_a_partner_only_agent_is_refused_the_back_office(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        partner = Agent(email="partenaire@example.org", first_name="Paule", last_name="Partenaire")
        uow.session.add(partner)
        await uow.session.flush()
        uow.session.add(
            Membership(
                agent_id=partner.id, organisation_id=office.s.organisation_id, role=Role.PARTNER
            )
        )
        partner_id = partner.id
    email = await set_password(db, clock, partner_id)
    assert (await login(client, email)).status_code == 303
    assert (await client.get("/agent/agenda")).status_code == 403
    home = await client.get("/agent")  # their pages are the partners' portal
    assert home.status_code == 303 and home.headers["location"] == "/agent/partenaire"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(Agent.id).where(Agent.id == partner_id))
