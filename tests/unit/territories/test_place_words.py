"""A place as one line and as a template dict (territories/places.py)."""

from __future__ import annotations

import uuid

from rdv_spie.territories.models import Place, PlaceKind
from rdv_spie.territories.places import line_of, one_line, place_context


def _place(**fields: object) -> Place:
    values: dict[str, object] = {
        "id": uuid.UUID(int=7),
        "organisation_id": uuid.UUID(int=1),
        "name": "Maison France services",
        "kind": PlaceKind.ADDRESS,
        "address": "2 rue Sérurier",
        "postcode": "02000",
        "city": "Laon",
        "phone": "03 23 00 00 00",
    }
    values.update(fields)
    return Place(**values)


def test_one_line_leaves_out_the_empty_parts() -> None:
    assert one_line(_place()) == "Maison France services, 2 rue Sérurier, 02000 Laon"
    assert one_line(_place(address=None, postcode=None)) == "Maison France services, Laon"
    assert one_line(_place(address="", postcode="02000", city=None)) == (
        "Maison France services, 02000"
    )
    assert one_line(None) is None
    assert line_of(None, None, None, None) is None
    assert line_of("A", "b", "c", "d") == one_line(
        _place(name="A", address="b", postcode="c", city="d")
    )


def test_the_template_dict_carries_what_pages_and_messages_show() -> None:
    assert place_context(_place(kind=PlaceKind.PHONE)) == {
        "id": str(uuid.UUID(int=7)),
        "name": "Maison France services",
        "kind": "phone",
        "address": "2 rue Sérurier",
        "postcode": "02000",
        "city": "Laon",
        "phone": "03 23 00 00 00",
    }
    empty = place_context(None)
    assert empty["kind"] == "address" and empty["name"] == "" and empty["address"] is None
    assert set(empty) == set(place_context(_place()))
