"""A person's read trail (who was shown their file, when, through which page or API): an admin
finds the person of the territory by name, then reads their trail through audit/service.py,
the service of the API's GET /people/{id}/reads (the same guard: the team of the person's
territory).

Reading the trail is not itself a read of the person's file, and writes no line: the search
and the trail show the person's first and last names only (never a birth date, a contact, a
cohort or a status), the names the admin needs to pick the right person; the rest of the
page is about agents (who, when, through what), as the API's trail is. An erased person is
left out of the search (nothing left to search by) and their trail reads "données effacées"
in place of the name."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.administration import paths
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import NotFound
from rdv_spie.people.contact import letters
from rdv_spie.people.models import Person
from rdv_spie.privacy import paths as privacy_paths
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid

MAX_FOUND = 50
MIN_QUERY = 2


async def _search(uow: UnitOfWork, territory_id: uuid.UUID, q: str) -> list[dict[str, Any]]:
    """People of the territory whose names hold every word typed, accents and case aside
    (``people.contact.letters``, as the journeys' search), by last name: the first
    MAX_FOUND + 1."""
    words = [w for w in (letters(word) for word in q.split()) if w]
    if not words:
        return []
    rows = await uow.session.execute(
        select(Person.id, Person.first_name, Person.last_name)
        .where(Person.territory_id == territory_id, Person.purged_at.is_(None))
        .order_by(Person.last_name, Person.first_name, Person.id)
    )
    found = []
    for pid, first, last in rows:
        names = f"{letters(first)} {letters(last)} {letters(first)}{letters(last)}"
        if all(word in names for word in words):
            found.append(
                {"id": pid, "name": f"{first} {last}", "url": f"{paths.READ_TRAIL}?personne={pid}"}
            )
            if len(found) > MAX_FOUND:
                break
    return found


async def _trail(
    uow: UnitOfWork, office: OfficeUser, person_id: uuid.UUID, before: datetime | None
) -> dict[str, Any]:
    person = await uow.session.get(Person, person_id)
    # The acting organisation's territory only: another one's person is an unknown one.
    if person is None or person.territory_id != office.acting.territory_id:
        raise NotFound("person not found", field="person_id")
    lines = await audit.reads_of(uow, office.actor, person_id, before=before)
    where = await ui.where_of(uow, office.actor, person.territory_id)
    more = len(lines) >= audit.MAX_ROWS
    return {
        "id": person.id,
        "name": None if person.purged_at else f"{person.first_name} {person.last_name}",
        "lines": [{"at": where.local(e.at), "agent": e.agent_name, "what": e.what} for e in lines],
        "older": (
            f"{paths.READ_TRAIL}?{urlencode({'personne': person.id, 'avant': lines[-1].at})}"
            if more
            else None
        ),
        "zone": where.territory.timezone,
        "data_url": privacy_paths.PERSON_DATA.replace("{person_id:uuid}", str(person.id)),
    }


def _before(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


@get(paths.READ_TRAIL, include_in_schema=False)
async def read_trail(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """Search a person by name (``?q=``), or their trail (``?personne=<id>``)."""
    office.require_admin_role()
    params = request.query_params
    q = (params.get("q") or "").strip()
    context: dict[str, Any] = {"admin": paths, "q": q, "found": None, "person": None}
    if params.get("personne") is not None:
        person_id = query_uuid(params.get("personne"))
        if person_id is None:
            raise NotFound("person not found", field="person_id")
        context["person"] = await _trail(uow, office, person_id, _before(params.get("avant")))
    elif len(q) >= MIN_QUERY:
        found = await _search(uow, office.acting.territory_id, q)
        context["found"] = found[:MAX_FOUND]
        context["more"] = len(found) > MAX_FOUND
    context["short"] = 0 < len(q) < MIN_QUERY
    return ui.page(request, office, "admin_trail", "administration", context)


ROUTES: list[ControllerRouterHandler] = [read_trail]
