"""Cohorts in the back office: the list, creating and changing one (the same validation as the
API), and a cohort's page (its counts, its imports, its journeys)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
