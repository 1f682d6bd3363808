"""The admins' pages: gathers pages_<topic>.py (organisations, agents and their password links,
places, appointment types, API keys, the feed link, the read trail) and serves the
administration's home, the list of those pages.

Every administration page is for the admins of the organisation the agent acts for
(``office.require_admin_role()``: 403 otherwise); what each one may change is then the
service's rule, as in the API (organisations and appointment types: the territory's; places,
agents and keys: the acting organisation's).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import (
    pages_agents,
    pages_feed,
    pages_keys,
    pages_password,
    pages_places,
    pages_structures,
    pages_trail,
    pages_types,
    paths,
)
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office


@get(paths.ADMINISTRATION, include_in_schema=False)
async def home(request: Request[Any, Any, Any], office: Office) -> Response[str]:
    """The administration's pages, for an admin of the acting organisation."""
    office.require_admin_role()
    return ui.page(request, office, "admin", "administration", {"admin": paths})


ROUTES: list[ControllerRouterHandler] = [
    home,
    *pages_structures.ROUTES,
    *pages_places.ROUTES,
    *pages_types.ROUTES,
    *pages_feed.ROUTES,
    *pages_trail.ROUTES,
    *pages_agents.ROUTES,
    *pages_password.ROUTES,
    *pages_keys.ROUTES,
]
