"""The journeys room's back-office paths, written once: the list (the menu's JOURNEYS, with
its filters in the query: cohorte, statut, referent, q, page), a person's journey with its
timeline, and its two actions."""

from __future__ import annotations

from rdv_spie.web.paths import JOURNEYS

__all__ = ["JOURNEY", "JOURNEYS", "JOURNEY_CLOSE", "JOURNEY_INVITE"]

JOURNEY = f"{JOURNEYS}/{{journey_id:uuid}}"
JOURNEY_INVITE = f"{JOURNEY}/relance"
JOURNEY_CLOSE = f"{JOURNEY}/cloture"
