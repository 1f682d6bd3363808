"""Back-office pages of the calendars room (HTML, French words in templates/pages/office_*)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
