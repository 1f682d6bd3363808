"""A person sent as JSON and the same person in a file go through one row checker: the same
normalised row, the same refusal for the same bad value."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rdv_spie.people.rows import FIELDS, PersonRow, RowError
from rdv_spie.people.service import rows_from_json
from rdv_spie.people.table import read_rows

TODAY = date(2026, 12, 1)
GOOD: dict[str, Any] = {
    "last_name": "Martin",
    "first_name": "Léa",
    "birth_date": "1990-04-02",
    "phone": "06 12 34 56 78",
    "email": "Lea.Martin@Exemple.FR",
    "postcode": "2000",
    "sms_consent": True,
}


def _as_file(people: list[dict[str, Any]]) -> list[PersonRow | RowError]:
    json_names = {"birth_on": "birth_date", "entered_on": "entry_date"}
    header = [json_names.get(f, f) for f in FIELDS]

    def cell(value: Any) -> str:
        return (
            ""
            if value is None
            else ("oui" if value is True else "non" if value is False else str(value))
        )

    lines = [";".join(header)] + [";".join(cell(p.get(h)) for h in header) for p in people]
    mapping = {h: f for h, f in zip(header, FIELDS, strict=True)}
    _, rows = read_rows("\n".join(lines).encode(), today=TODAY, mapping=mapping)
    return list(rows)


def test_a_good_person_is_the_same_row_either_way() -> None:
    (from_json,) = rows_from_json([GOOD], region="FR", today=TODAY)
    (from_file,) = _as_file([GOOD])
    assert isinstance(from_json, PersonRow) and isinstance(from_file, PersonRow)
    assert from_json.line == 1 and from_file.line == 2  # a position; a file's physical line
    assert from_json == type(from_json)(**{**_fields(from_file), "line": 1})
    assert from_json.phone == "+33612345678" and from_json.postcode == "02000"
    assert from_json.where("birth_on") == (None, "birth_date")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "12", "invalid_phone"),
        ("email", "lea@", "invalid_email"),
        ("birth_date", "31/02/1990", "invalid_date"),
        ("last_name", "x" * 101, "too_long"),
        ("first_name", "", "missing_value"),
        ("sms_consent", "peut-être", "invalid_boolean"),
        ("postcode", "ABCDE", "invalid_postcode"),
    ],
)
def test_a_bad_value_is_refused_the_same_way(field: str, value: str, code: str) -> None:
    person = {**GOOD, field: value}
    json_errors = [e for e in rows_from_json([person], region="FR", today=TODAY)]
    file_errors = _as_file([person])
    assert all(isinstance(e, RowError) for e in json_errors + file_errors)
    assert [(e.code, e.detail) for e in json_errors] == [(e.code, e.detail) for e in file_errors]
    (error,) = [e for e in json_errors if isinstance(e, RowError) and e.code == code]
    assert (error.line, error.field, error.header, error.column) == (1, field, field, None)


def _fields(row: PersonRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*FIELDS, "line")}
