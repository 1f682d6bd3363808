"""A spreadsheet of people (.xlsx from Excel, .ods from LibreOffice) goes through the same row
checker as a CSV file, with the line a person sees in their spreadsheet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from tests.support.spreadsheets import Cell, ods, xlsx

from rdv_spie.people.intake import parse_all
from rdv_spie.people.rows import PersonRow, RowError
from rdv_spie.people.table import CsvFormatError

TODAY = date(2026, 12, 1)
Maker = Callable[[list[list[Cell]]], bytes]
ROWS: list[list[Cell]] = [
    ["Nom", "Prénom", "Téléphone", "CP", "Date de naissance"],
    [None, None, None, None, None],  # a blank line before the people
    ["Martin", "Léa", 612345678, 2000, "02/04/1990"],  # numbers as a spreadsheet keeps them
    ["Durand", "Hugo", "12", "02000", None],
]


@pytest.mark.parametrize("make", [xlsx, ods], ids=["xlsx", "ods"])
def test_a_spreadsheet_is_read_like_its_csv_export(
    make: Callable[[list[list[Cell]]], bytes],
) -> None:
    good, bad = parse_all(make(ROWS), region="FR", today=TODAY)

    assert isinstance(good, PersonRow)
    assert (good.line, good.last_name, good.phone, good.postcode, good.birth_on) == (
        3,
        "Martin",
        "+33612345678",
        "02000",
        date(1990, 4, 2),
    )
    assert good.where("phone") == (3, "Téléphone")
    assert isinstance(bad, RowError)
    assert (bad.line, bad.column, bad.header, bad.code) == (4, 3, "Téléphone", "invalid_phone")


@pytest.mark.parametrize("make", [xlsx, ods], ids=["xlsx", "ods"])
def test_lines_count_from_the_sheets_first_row_even_above_the_header(make: Maker) -> None:
    """A sheet whose header stands on line 3 (two empty lines above it)."""
    (row,) = parse_all(make([[None], [None], *ROWS[:1], ROWS[3]]), region="FR", today=TODAY)
    assert isinstance(row, RowError)
    assert (row.line, row.column, row.code) == (4, 3, "invalid_phone")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"PK\x03\x04 this zip is broken", "not_a_table"),
        (xlsx([[None]]), "empty_file"),
        (xlsx([["Couleur", "Taille"], ["bleu", 3]]), "missing_columns"),
    ],
)
def test_a_spreadsheet_that_is_no_list_of_people_is_refused_whole(data: bytes, code: str) -> None:
    with pytest.raises(CsvFormatError) as refused:
        parse_all(data, region="FR", today=TODAY)
    assert refused.value.code == code
