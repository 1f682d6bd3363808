"""Which places to offer first: a postcode heuristic, no geocoding (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from rdv_spie.territories.models import Place, PlaceKind


def departement(postcode: str | None) -> str | None:
    """The département part of a French postcode: two digits, three overseas (97x, 98x)."""
    code = (postcode or "").strip().replace(" ", "")
    if len(code) != 5 or not code.isdigit():
        return None
    return code[:3] if code.startswith(("97", "98")) else code[:2]


def nearest_first(places: Iterable[Place], postcode: str | None) -> list[Place]:
    """Places in the person's postcode first, then in their département, then the others
    (by name); phone and video places come after the addresses when a postcode is known.

    A heuristic on postcodes only: two towns of one département may be far apart, and the
    order never hides a place.
    """
    own = (postcode or "").strip().replace(" ", "")
    own_dep = departement(own)

    def rank(place: Place) -> tuple[int, str]:
        if not own_dep:
            return (0, place.name.casefold())
        if place.kind != PlaceKind.ADDRESS:
            return (3, place.name.casefold())
        code = (place.postcode or "").strip().replace(" ", "")
        if code == own:
            return (0, place.name.casefold())
        if departement(code) == own_dep:
            return (1, place.name.casefold())
        return (2, place.name.casefold())

    return sorted(places, key=rank)
