"""Intake matching in memory (people/matching.py ``Index``): which row is which person."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from rdv_spie.people.matching import Index as _Index
from rdv_spie.people.matching import NewPerson as _NewPerson
from rdv_spie.people.matching import _words, classify
from rdv_spie.people.rows import PersonRow, RowError

PHONE = "+33612345678"


def _row(last: str, first: str, **fields: object) -> PersonRow:
    values: dict[str, object] = {
        "line": 2,
        "first_name": first,
        "last_name": last,
        "birth_on": None,
        "phone": None,
        "email": None,
        "caf_number": None,
        "france_travail_id": None,
        "departement_id": None,
        "postcode": None,
        "entered_on": None,
        "sms_consent": False,
        "email_consent": False,
        "prefers_call": False,
    }
    values.update(fields)
    return PersonRow(**values)  # type: ignore[arg-type]


def _person(last: str, first: str, **fields: object) -> _NewPerson:
    row = _row(last, first, **fields)
    return _NewPerson(
        uuid.uuid4(),
        row.first_name,
        row.last_name,
        row.birth_on,
        row.phone,
        row.email,
        row.postcode,
        row.caf_number,
        row.france_travail_id,
        row.departement_id,
        False,
        False,
        False,
    )


def _index(*people: _NewPerson) -> _Index:
    index = _Index([])
    for person in people:
        index.add(person)
    return index


@pytest.mark.parametrize(
    ("last", "first", "born"),
    [
        ("LE GALL PREVOT", "jean pierre", None),  # case, accents, spaces, hyphens
        ("Le Gall-Prévôt", "Jean-Pierre", date(1990, 2, 1)),
    ],
)
def test_a_phone_with_the_same_identity_is_the_same_person(
    last: str, first: str, born: date | None
) -> None:
    known = _person("Le Gall-Prévôt", "Jean-Pierre", phone=PHONE, birth_on=date(1990, 2, 1))
    assert _index(known).match(_row(last, first, phone=PHONE, birth_on=born)) is known


@pytest.mark.parametrize(
    ("last", "first", "born"),
    [
        ("Le Gall-Prévôt", "Jean", None),  # another first name
        ("Le Gall", "Jean-Pierre", None),  # another last name
        ("Le Gall-Prévôt", "Jean-Pierre", date(2010, 2, 1)),  # a child of the same names
    ],
)
def test_a_phone_alone_never_matches(last: str, first: str, born: date | None) -> None:
    known = _person("Le Gall-Prévôt", "Jean-Pierre", phone=PHONE, birth_on=date(1990, 2, 1))
    assert _index(known).match(_row(last, first, phone=PHONE, birth_on=born)) is None


def test_digits_and_names_without_letters_still_tell_people_apart() -> None:
    known = _person("X1", "Y", phone=PHONE)
    assert _index(known).match(_row("X2", "Y", phone=PHONE)) is None
    assert _index(known).match(_row("x1", "y", phone=PHONE)) is known
    dash = _person("-", "Y", phone=PHONE)
    assert _index(dash).match(_row("?", "Y", phone=PHONE)) is None
    assert _index(dash).match(_row("-", "Y", phone=PHONE)) is dash


@pytest.mark.parametrize(
    ("last", "first", "born"),
    [
        ("Lemaire", "Camille", None),  # married: the first name is kept
        ("Martin", "Camille-Rose", date(1980, 2, 14)),  # the whole first name
        ("Camille", "Martin", None),  # the two columns swapped
        ("Martin", "Kamille", date(1980, 2, 14)),  # spelt otherwise, same last name and birth
    ],
)
def test_an_external_id_matches_the_same_person_under_a_changed_name(
    last: str, first: str, born: date | None
) -> None:
    known = _person("Martin", "Camille", caf_number="1234567", birth_on=date(1980, 2, 14))
    assert _index(known).match(_row(last, first, caf_number="1234567", birth_on=born)) is known


@pytest.mark.parametrize(
    ("last", "first", "born", "why"),
    [
        ("Martin", "Hugo", None, "another name"),  # the spouse on the household's number
        ("Martin", "Kamille", None, "another name"),  # no birth date to vouch for it
        ("Durand", "Léo", date(1980, 2, 14), "another name"),
        ("Martin", "Camille", date(2005, 1, 5), "another birth date"),  # a child, same names
        ("Dupont", "Camilles", None, "another name"),  # a longer word is another name
    ],
)
def test_an_external_id_of_someone_else_is_ambiguous(
    last: str, first: str, born: date | None, why: str
) -> None:
    known = _person("Martin", "Camille", caf_number="1234567", birth_on=date(1980, 2, 14))
    row = _row(last, first, caf_number="1234567", birth_on=born)
    row = replace(row, columns={"caf_number": (6, "N° CAF")})
    error = _index(known).match(row)
    assert isinstance(error, RowError)
    assert (error.line, error.column, error.header, error.field, error.code) == (
        2,
        6,
        "N° CAF",
        "caf_number",
        "ambiguous_identity",
    )
    assert why in error.detail and last not in error.detail and first not in error.detail


def test_a_contact_fitting_several_people_is_ambiguous_unless_the_birth_date_says() -> None:
    parent = _person("Petit", "Dominique", phone=PHONE, birth_on=date(1970, 6, 21))
    child = _person("Petit", "Dominique", phone=PHONE, birth_on=date(2005, 1, 5))
    unknown = _person("Petit", "Dominique", phone=PHONE)
    index = _index(parent, child, unknown)
    error = index.match(_row("Petit", "Dominique", phone=PHONE))
    assert isinstance(error, RowError) and error.field == "phone"
    assert index.match(_row("Petit", "Dominique", phone=PHONE, birth_on=date(2005, 1, 5))) is child


@pytest.mark.parametrize(
    ("theirs", "mine", "same"),
    [
        ("Louis", "Louise", False),  # a longer word is another first name
        ("Jean", "Jean-Pierre", True),  # a first name kept, a second one added
        ("Jean Pierre", "Jean-Pierre", True),
        ("Marie-Claire", "Marie", True),
        ("Éloïse", "eloise", True),
        ("Jean", "Jeanne", False),
    ],
)
def test_a_first_name_agrees_word_by_word(theirs: str, mine: str, same: bool) -> None:
    """An external id points at a person recorded under another last name: the row is theirs
    only when the first name is theirs, or its first words are (never a longer word)."""
    known = _person("Martin", theirs, caf_number="1234567")
    found = _index(known).match(_row("Dupont", mine, caf_number="1234567"))
    assert (found is known) is same


def test_names_folded_for_a_batch_do_not_stay_in_the_process() -> None:
    """The names a batch compares are cached while it is matched, then forgotten."""
    known = _person("Le Gall", "Jean", phone=PHONE)
    outcome = classify(_index(known), [_row("LE GALL", "jean", phone=PHONE)])
    assert outcome.matched == [(outcome.matched[0][0], known)]  # the names were compared
    assert _words.cache_info().currsize == 0
