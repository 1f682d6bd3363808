"""The series of committees: creating and changing one (its rule in words, capacity, deadline,
place or video link), its members and their charter."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
