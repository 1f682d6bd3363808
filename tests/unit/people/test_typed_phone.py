"""The number a person types at the confirm step of a phone appointment: checked with
phonenumbers in the territory's region, kept in E.164."""

from __future__ import annotations

import pytest

from rdv_spie.people import contact


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        (" 03 23 24 60 00 ", "FR", "+33323246000"),  # a landline: they call it too
        ("0694 20 12 34", "GF", "+594694201234"),  # Guyane's own mobiles
        ("0694 20 12 34", "FR", "+594694201234"),  # the same plan, typed in Aisne
        ("0692 12 34 56", "RE", "+262692123456"),
        ("+32 470 12 34 56", "FR", "+32470123456"),  # a Belgian mobile, international form
    ],
)
def test_valid_numbers_in_e164(typed: str, region: str, e164: str) -> None:
    assert contact.typed_phone(typed, region) == e164


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "06 12", "abc", "06 12 34 56 78 90 12", "0612345678 poste 2", "1" * 41, "+33 0"],
)
def test_not_a_number(typed: str) -> None:
    assert contact.typed_phone(typed, "FR") is None
