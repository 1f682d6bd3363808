"""A referent's fiches: the request form for a person they follow, editing or withdrawing it
until the deadline, and the list of their requests with their status and decision."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
