"""Back-office pages of the people room: the people to follow (deadline near, nothing
booked) and unlocking a person's identity check, from any list that shows the journey.
Scoped by people/followup.py."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from rdv_spie.deps import Uow
from rdv_spie.people import followup, pages_cohorts, pages_imports, paths
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office
from rdv_spie.web.pages import redirect

PATH = paths.PEOPLE
# The lists with an unlock button, and the query parameters each keeps on the way back.
_BACK = {PATH: (), paths.BOOKING: ("q", "parcours")}


@get(PATH, include_in_schema=False)
async def people_to_follow(
    request: Request[Any, Any, Any], uow: Uow, office: Office
) -> Response[str]:
    """Journeys whose first-appointment deadline is near or past with nothing booked."""
    where = await ui.where(uow, office.actor)
    today = where.today(uow.clock.now())
    rows = await followup.to_follow(uow, office.actor, today=today)
    context = {
        "mine": [r for r in rows if r.mine],
        "team": [r for r in rows if not r.mine],
        "today": today,
    }
    return ui.page(request, office, "people", "personnes", context)


def back_to(value: str) -> str:
    """The list the unlock form was on (its search kept), rebuilt from known parts so the
    redirect never leaves those pages; people to follow otherwise."""
    parts = urlsplit(value)
    kept = _BACK.get(parts.path) if not (parts.scheme or parts.netloc) else None
    if kept is None:
        return f"{PATH}?fait=debloque"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in kept and v]
    return f"{parts.path}?{urlencode([*query, ('fait', 'debloque')])}"


@post(paths.UNLOCK, include_in_schema=False, status_code=303)
async def unlock(
    request: Request[Any, Any, Any], uow: Uow, office: Office, journey_id: FromPath[uuid.UUID]
) -> Redirect:
    """Reset the identity check of the person's invitation link, then go back to the list."""
    form = await ui.Form.of(request)
    await followup.unlock(uow, office.actor, journey_id)
    return redirect(back_to(form.get("suite")))


ROUTES: list[ControllerRouterHandler] = [
    people_to_follow,
    unlock,
    *pages_cohorts.ROUTES,
    *pages_imports.ROUTES,
]
