"""The SPIE team's desk: the queue of requests to acknowledge on the 72 h clock, the sessions
with their agenda, moving or cancelling one, and recording decisions."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
