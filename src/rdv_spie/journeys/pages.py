"""The journeys the territory team follows: per cohort with filters, a person's timeline,
inviting again and closing a journey."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
