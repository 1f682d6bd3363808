"""The indicators dashboard: the figures of a territory or cohort over a period, a month-by-
month chart in server-rendered SVG with the same figures as a table, and the CSV."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
