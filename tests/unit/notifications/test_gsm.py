"""GSM-7: the table, French transliteration, septet and segment counts, and two properties
(any text comes out GSM-7; GSM-7 text comes out unchanged)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_spie.templating import gsm
from rdv_spie.templating.gsm import (
    ALPHABET,
    BASIC,
    EXTENSION,
    is_gsm7,
    segments,
    septets,
    to_gsm7,
)


def test_table_has_the_3gpp_size_and_its_french_letters() -> None:
    assert len(BASIC) == 127  # 128 codes, one of them the escape to the extension table
    assert len(EXTENSION) == 10
    assert set("éèùìòÇÉÄÖÑÜàäöñüßÆæØøÅå") <= BASIC
    assert not set("çêâîôûëïœ«»’‘“”–—…\u00a0\u202f") & ALPHABET
    assert "€" in EXTENSION and "€" not in BASIC


def test_every_replacement_is_gsm7() -> None:
    assert all(is_gsm7(value) for value in gsm._REPLACEMENTS.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Être prêt à l’heure", "Etre pret à l'heure"),
        ("reçu, Ça, façon", "recu, Ça, facon"),
        ("château, île, hôtel, sûr, Noël, naïf", "chateau, ile, hotel, sur, Noel, naif"),
        ("cœur, Œuvre", "coeur, OEuvre"),
        ("« Bonjour »", '" Bonjour "'),
        ("“oui” ‘non’", "\"oui\" 'non'"),
        ("9h–12h — fermé…", "9h-12h - fermé..."),
        ("12\u00a0€ et 3\u202f%", "12 € et 3 %"),
        ("Bonjour 👋🏽 !", "Bonjour  !"),
        ("n° 2", "no 2"),
        ("À Évry, Ère", "A Évry, Ere"),
        ("ﬁn ½", "fin 1/2"),
        ("zéro\u200blargeur", "zérolargeur"),
        ("Δ Ω Σ", "Δ Ω Σ"),
        ("tab\there", "tab here"),
    ],
)
def test_french_text_is_transliterated(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected


def test_septets_count_extension_characters_twice() -> None:
    assert septets("") == 0
    assert septets("Bonjour") == 7
    assert septets("12 €") == 5
    assert septets("[a]{b}") == 10
    with pytest.raises(ValueError, match="not GSM-7"):
        septets("fenêtre")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 158 + "€", 1),
        ("a" * 159 + "€", 2),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        # 306 septets, but the escape and "€" never straddle two parts: 152 | 2 + 151 | 1.
        ("a" * 152 + "€" + "a" * 152, 3),
    ],
)
def test_segments(text: str, count: int) -> None:
    assert segments(text) == count


@given(st.text())
def test_any_text_comes_out_gsm7(text: str) -> None:
    out = to_gsm7(text)
    assert is_gsm7(out)
    assert to_gsm7(out) == out


@given(st.text(alphabet=st.sampled_from(sorted(ALPHABET))))
def test_gsm7_text_comes_out_unchanged(text: str) -> None:
    assert is_gsm7(text)
    assert to_gsm7(text) == text


@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z"))))
def test_transliteration_keeps_gsm7_characters_in_place(text: str) -> None:
    out = to_gsm7(text)
    kept = [char for char in text if char in ALPHABET]
    # Every GSM-7 character of the input survives, in order.
    iterator = iter(out)
    assert all(char in iterator for char in kept)
