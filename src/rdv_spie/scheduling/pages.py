"""Back-office pages of the scheduling room (HTML, French words in templates/pages/office_*)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
