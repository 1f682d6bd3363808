"""The admins' pages: gathers pages_<topic>.py (organisations, agents and their password links,
places, appointment types, API keys, the feed link, the read trail)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
