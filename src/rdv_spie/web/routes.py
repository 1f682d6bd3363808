"""The pages' route handlers, gathered from each room's ``pages.py`` (the API lives under
/api/v1 in app.py). A room never imports another room's pages; this module is where they meet.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from rdv_spie.agents import pages as agent_pages
from rdv_spie.calendars import pages as calendar_pages
from rdv_spie.invitations import pages as invitation_pages
from rdv_spie.people import pages as people_pages
from rdv_spie.scheduling import pages as scheduling_pages

PAGES: list[ControllerRouterHandler] = [
    *invitation_pages.ROUTES,
    *agent_pages.ROUTES,
    *scheduling_pages.ROUTES,
    *people_pages.ROUTES,
    *calendar_pages.ROUTES,
]
