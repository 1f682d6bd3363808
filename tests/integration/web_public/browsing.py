"""Helpers of the public-page tests: a person invited on a scenario territory (ORM), and what
a browser does on the pages (open the link, answer the check, follow the forms)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from litestar import Litestar
from sqlalchemy import select
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.notifications import tokens
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment
from rdv_spie.web import sessions

BASE = "http://testserver.local"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
_SLOT = re.compile(r'href="(/rdv/(?:creneaux|deplacer)/confirmer\?[^"]+)"')


@dataclass
class Invited:
    """One invited person: their journey, their link's token."""

    s: sc.Scenario
    cohort_id: uuid.UUID
    person_id: uuid.UUID
    journey_id: uuid.UUID
    invitation_id: uuid.UUID
    token: str


async def cohort(
    db: Database, clock: FrozenClock, s: sc.Scenario, *, name: str = "Jeunes"
) -> uuid.UUID:
    """A cohort of the scenario's single type, written by its organisation."""
    async with db.unit_of_work(clock=clock) as uow:
        row = Cohort(
            territory_id=s.territory_id,
            name=name,
            appointment_type_id=s.single_type_id,
            organisation_id=s.organisation_id,
        )
        uow.session.add(row)
        await uow.session.flush()
        return row.id


async def invite(
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    s: sc.Scenario,
    cohort_id: uuid.UUID,
    *,
    last_name: str = "Dupré",
    first_name: str = "Camille",
    postcode: str | None = None,
    phone: str | None = "+33612345678",
    appointment_by: date = date(2026, 12, 18),
    expires_at: datetime | None = None,
) -> Invited:
    """A person, their journey in the cohort and an SMS invitation (its token derived like
    the planner does)."""
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(
            territory_id=s.territory_id,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            postcode=postcode,
            sms_consent=True,
        )
        uow.session.add(person)
        await uow.session.flush()
        journey = Journey(
            territory_id=s.territory_id,
            person_id=person.id,
            cohort_id=cohort_id,
            entered_on=date(2026, 11, 30),
            invite_by_on=date(2026, 12, 3),
            appointment_by_on=appointment_by,
        )
        uow.session.add(journey)
        await uow.session.flush()
        invitation = Invitation(
            id=uuid.uuid4(),
            journey_id=journey.id,
            channel=Channel.SMS,
            expires_at=expires_at or clock.now() + timedelta(days=10),
        )
        token = tokens.derive(app.state.secret_key, invitation.id)
        invitation.token_hash = tokens.hash_token(token)
        uow.session.add(invitation)
        await uow.session.flush()
        return Invited(s, cohort_id, person.id, journey.id, invitation.id, token)


@asynccontextmanager
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookies) on the same app."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def csrf(page: str) -> str:
    """The form token of a page."""
    found = _CSRF.search(page)
    assert found, "no form token on the page"
    return found.group(1)


def csrf_for(app: Litestar, client: httpx.AsyncClient) -> str:
    """The form token of a browser's session cookie (for pages without a form)."""
    return sessions.csrf_token(app.state.secret_key, client.cookies["rdv_session"])


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of the page's form (the form token included)."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def slot_links(page: str) -> list[str]:
    """The links of the slots shown, in page order."""
    return [html.unescape(h) for h in _SLOT.findall(page)]


def slot_choices(page: str) -> list[tuple[str, str]]:
    """The slots shown, in page order, as (start in UTC as in links, place id)."""
    found = []
    for link in slot_links(page):
        query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
        found.append((query["debut"], query["lieu"]))
    return found


def day_options(page: str) -> list[str]:
    """The days offered by the day chooser (``YYYY-MM-DD``), in order."""
    return re.findall(r'<option value="(\d{4}-\d{2}-\d{2})"', page)


async def open_link(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Open the invitation link; the token is exchanged for a cookie and a redirect."""
    r = await client.get(f"/i/{token}")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/rdv"
    return r


async def answer(client: httpx.AsyncClient, letters: str) -> httpx.Response:
    """Answer the identity check from the /rdv page's form."""
    page = await client.get("/rdv")
    return await client.post(
        "/rdv/verification", data={"csrf_token": csrf(page.text), "lettres": letters}
    )


async def verified(client: httpx.AsyncClient, token: str, letters: str = "dup") -> None:
    """Open the link and pass the check."""
    await open_link(client, token)
    r = await answer(client, letters)
    assert r.status_code == 303, r.text


async def book_first(client: httpx.AsyncClient) -> httpx.Response:
    """Choose the first slot shown and confirm it; the POST's response."""
    slots = await client.get("/rdv/creneaux")
    assert slots.status_code == 200, slots.text
    confirm = await client.get(slot_links(slots.text)[0])
    assert confirm.status_code == 200, confirm.text
    return await client.post("/rdv/creneaux/confirmer", data=hidden_fields(confirm.text))


async def appointments(
    db: Database, clock: FrozenClock, journey_id: uuid.UUID
) -> list[Appointment]:
    """The journey's appointments."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(
            await uow.session.scalars(
                select(Appointment).where(Appointment.journey_id == journey_id)
            )
        )


async def count(db: Database, clock: FrozenClock, stmt: object) -> int:
    """A count query's answer."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(stmt) or 0)  # type: ignore[call-overload]
