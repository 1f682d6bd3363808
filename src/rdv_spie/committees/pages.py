"""The committees room's pages: gathers pages_<topic>.py (a referent's fiches, the team's desk
and sessions, the series, the partners' portal)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from rdv_spie.committees import pages_desk, pages_fiches, pages_portal, pages_series

ROUTES: list[ControllerRouterHandler] = [
    *pages_fiches.ROUTES,
    *pages_desk.ROUTES,
    *pages_series.ROUTES,
    *pages_portal.ROUTES,
]
