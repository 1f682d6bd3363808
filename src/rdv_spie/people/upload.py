"""Reading an uploaded file of people for the import pages: what it is (CSV or spreadsheet),
its header with the field each column gives, its checked rows. CPU-bound and free of I/O but
for ``read``, which runs the reading in a thread."""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath, PureWindowsPath

from rdv_spie.people import workbook
from rdv_spie.people.rows import PersonRow, RowError
from rdv_spie.people.table import CsvFormatError, field_of, overrides_of, read_rows

# Header problems a chosen mapping can fix: the run is kept, the page asks for the columns.
MAPPING_PROBLEMS = frozenset({"missing_columns", "duplicate_column"})
KINDS = ("csv", "xlsx", "ods", "xls")


@dataclass(frozen=True, slots=True)
class Table:
    """A file read: its header as written, field -> 0-based column, the checked rows."""

    header: tuple[str, ...]
    columns: dict[str, int]
    rows: list[PersonRow | RowError]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the file's header and the field it gives (None: ignored)."""

    index: int
    header: str
    field: str | None


def file_kind(data: bytes, file_name: str) -> str:
    """What the bytes are: a zip spreadsheet (.ods by its name, else .xlsx), an old Excel
    workbook, or else a CSV file."""
    if data.startswith(b"PK\x03\x04"):
        return "ods" if file_name.casefold().endswith(".ods") else "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    return "csv"


def read_table(
    data: bytes, *, region: str, today: date, mapping: Mapping[str, str] | None = None
) -> Table:
    """Read and check the whole file (CPU-bound: run it in a thread); ``CsvFormatError``
    when it is not a table, or its header lacks the names (``header`` then says it)."""
    if workbook.is_workbook(data):
        header, columns, rows = workbook.read_sheet(
            data, region=region, today=today, mapping=mapping
        )
        return Table(header, columns, list(rows))
    _refuse_nul(data)
    layout, stream = read_rows(data, region=region, today=today, mapping=mapping)
    return Table(layout.header, layout.columns, list(stream))


def _refuse_nul(data: bytes) -> None:
    """A NUL byte anywhere in a file that is not UTF-16 (marked): binary, refused whole,
    before its header is offered for mapping."""
    at = data.find(b"\x00")
    if at < 0 or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    raise CsvFormatError(
        "not_csv",
        "NUL character: save the file as 'CSV UTF-8' or 'CSV (;)'",
        line=data.count(b"\n", 0, at) + 1,
        column=at - data.rfind(b"\n", 0, at),
    )


def describe(content: bytes, chosen: Mapping[str, str], today: date) -> list[Column]:
    """The file's header with the field each column gives (CPU-bound for a spreadsheet);
    when the header lacks a name, what each column would give on its own."""
    try:
        if workbook.is_workbook(content):
            header, columns, _ = workbook.read_sheet(
                content, region="FR", today=today, mapping=chosen
            )
        else:
            layout, _ = read_rows(content, region="FR", today=today, mapping=chosen)
            header, columns = layout.header, layout.columns
    except CsvFormatError as exc:
        overrides = overrides_of(chosen)
        return [Column(i, text, field_of(text, overrides)) for i, text in enumerate(exc.header)]
    given = {index: name for name, index in columns.items()}
    return [Column(i, text, given.get(i)) for i, text in enumerate(header)]


def clean_name(file_name: str) -> str:
    """The file's own name, without the folders a browser may send."""
    name = PureWindowsPath(PurePosixPath(file_name or "").name).name.strip()
    return name[:255] or "fichier"


async def read(
    region: str, data: bytes, today: date, mapping: Mapping[str, str]
) -> Table | CsvFormatError:
    try:
        return await asyncio.to_thread(
            read_table, data, region=region, today=today, mapping=mapping
        )
    except CsvFormatError as exc:
        return exc


def usable(exc: CsvFormatError) -> bool:
    """A header a mapping can fix: at least two named columns (a last and a first name)."""
    return exc.code in MAPPING_PROBLEMS and sum(1 for h in exc.header if h.strip()) >= 2
