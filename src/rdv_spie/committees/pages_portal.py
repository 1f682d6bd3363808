"""The partners' portal: the versioned confidentiality charter accepted online, the upcoming
sessions, the frozen agenda, a fiche (every read in the audit trail) and subscribing to the
committee's calendar."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
