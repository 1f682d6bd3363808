"""The people room's back-office paths, written once: the people to follow and unlocking a
person's identity check."""

from __future__ import annotations

from rdv_spie.web.paths import BOOKING, OFFICE, PEOPLE

__all__ = ["BOOKING", "PEOPLE", "UNLOCK"]

UNLOCK = f"{OFFICE}/parcours/{{journey_id:uuid}}/deblocage"
