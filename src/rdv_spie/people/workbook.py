"""A spreadsheet of people (.xlsx, .ods, .xls) read into cells with python-calamine: the first
sheet, its first non-empty row as the header, each row checked by ``rows.RowChecker`` with the
line and column a person sees in their spreadsheet. Numbers and dates become the text a CSV
export would hold (612345678.0 → "612345678", a date → its ISO form).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

import python_calamine

from rdv_spie.people.rows import PersonRow, RowChecker, RowError
from rdv_spie.people.table import CsvFormatError, map_columns, overrides_of

# Zip (.xlsx, .ods) and OLE (.xls) files: what a spreadsheet starts with.
MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def is_workbook(data: bytes) -> bool:
    """Whether these bytes are a spreadsheet rather than a CSV file."""
    return data.startswith(MAGIC)


def read_workbook(data: bytes, *, region: str, today: date) -> Iterator[PersonRow | RowError]:
    """The checked rows of the first sheet; ``CsvFormatError`` when the file cannot be read or
    has no usable header (nothing is returned half-read: the caller lists it all first)."""
    _, _, rows = read_sheet(data, region=region, today=today)
    return rows


def read_sheet(
    data: bytes, *, region: str, today: date, mapping: Mapping[str, str] | None = None
) -> tuple[tuple[str, ...], dict[str, int], Iterator[PersonRow | RowError]]:
    """The first sheet's header, its columns (field -> 0-based cell) and its checked rows;
    ``mapping`` sends header texts to fields as ``table.read_rows``'s does."""
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        cells = sheet.to_python(skip_empty_area=False)  # from A1: index + 1 is the line
    except Exception:  # calamine raises its own errors, and zip or XML ones beneath
        raise CsvFormatError(
            "not_a_table", "the file is not a spreadsheet that can be read: save it again"
        ) from None
    texts = [[_text(value) for value in row] for row in cells]
    index = next((i for i, row in enumerate(texts) if "".join(row).strip()), None)
    if index is None:
        raise CsvFormatError("empty_file", "the first sheet is empty", line=1)
    header_line = index + 1
    header = [" ".join(cell.split()) for cell in texts[index]]
    columns, _ = map_columns(header, overrides_of(mapping), header_line)
    checker = RowChecker(columns, header, region=region, today=today)
    return tuple(header), columns, _rows(texts[index + 1 :], header_line + 1, checker)


def _rows(
    rows: list[list[str]], first_line: int, checker: RowChecker
) -> Iterator[PersonRow | RowError]:
    for offset, cells in enumerate(rows):
        if not "".join(cells).strip():
            continue
        result = checker.check(first_line + offset, cells)
        if isinstance(result, PersonRow):
            yield result
        else:
            yield from result


def _text(value: Any) -> str:
    """A cell as a CSV export would write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
