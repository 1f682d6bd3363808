"""A place as people read it: one line (calendars, .ics files) and a template dict (pages,
e-mails, SMS). Every room shows a place through these two, so an address reads the same
everywhere. Values only: no database, no I/O."""

from __future__ import annotations

from typing import Any

from rdv_spie.territories.models import Place


def line_of(
    name: str | None, address: str | None, postcode: str | None, city: str | None
) -> str | None:
    """Name, address, postcode and city on one line, the empty parts left out (None: all
    empty). For callers holding the columns rather than a ``Place``."""
    parts = (name, address, " ".join(p for p in (postcode, city) if p))
    return ", ".join(p for p in parts if p) or None


def one_line(place: Place | None) -> str | None:
    """A place as one line (see ``line_of``); None without a place."""
    if place is None:
        return None
    return line_of(place.name, place.address, place.postcode, place.city)


def place_context(place: Place | None) -> dict[str, Any]:
    """A place as the templates read it; without a place, an empty address."""
    if place is None:
        return {
            "id": None,
            "name": "",
            "kind": "address",
            "address": None,
            "postcode": None,
            "city": None,
            "phone": None,
        }
    return {
        "id": str(place.id),
        "name": place.name,
        "kind": str(place.kind),
        "address": place.address,
        "postcode": place.postcode,
        "city": place.city,
        "phone": place.phone,
    }
