"""Back-office pages of the people room: the people to follow (deadline near, nothing
booked) and unlocking a person's identity check. Scoped by people/followup.py."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from rdv_spie.agents import office as ui
from rdv_spie.deps import Uow
from rdv_spie.people import followup
from rdv_spie.web.auth import Office
from rdv_spie.web.pages import redirect

PATH = "/agent/personnes"


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
        "unlocked": request.query_params.get("fait") == "debloque",
    }
    return ui.page(request, office, "people", "personnes", context)


@post("/agent/parcours/{journey_id:uuid}/deblocage", include_in_schema=False, status_code=303)
async def unlock(uow: Uow, office: Office, journey_id: FromPath[uuid.UUID]) -> Redirect:
    """Reset the identity check of the person's invitation link."""
    await followup.unlock(uow, office.actor, journey_id)
    return redirect(f"{PATH}?fait=debloque")


ROUTES: list[ControllerRouterHandler] = [people_to_follow, unlock]
