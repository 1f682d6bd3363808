"""A file of people read into cells: the encoding (a BOM wins; else UTF-8, or Windows-1252),
the delimiter (";", tab or ","), the header mapped to fields by their usual French and English
names, then each row with the physical line where it starts, checked by ``rows.RowChecker``.

Streaming: the source is read in 64 KiB chunks and decoded incrementally, so a 100,000-row file
is never held twice. Encoding: a BOM wins (UTF-8 or UTF-16); otherwise ASCII until the first
chunk holding a non-ASCII byte (the "header + sample"): UTF-8 when it decodes as such, or
mostly so, else Windows-1252. Bytes undecodable after that choice reject only their row
(``invalid_encoding``). Pure: no I/O besides pulling bytes from the source it is handed.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

import phonenumbers

from rdv_spie.errors import Invalid
from rdv_spie.people.rows import FIELDS, REQUIRED_FIELDS, UNDECODED, PersonRow, RowChecker, RowError

# Header synonyms, field -> groups from most to least preferred: when two columns of a file map
# to one field the better group wins and the other is ignored; same group -> duplicate_column.
# The field names themselves ("last_name", "caf_number"…) are accepted too, before any group.
# fmt: off
SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "last_name": (("Nom d'usage", "Nom usuel"),
                  ("Nom", "Nom de famille", "Last name", "Surname", "Family name"),
                  ("Nom de naissance", "Birth name")),
    "first_name": (("Prénom", "Prénoms", "Prénom usuel", "First name", "Given name"),),
    "birth_on": (("Date de naissance", "Date naissance", "Né(e) le", "DDN", "Birth date",
                  "Date of birth"),),
    "phone": (("Téléphone portable", "Tél. portable", "Portable", "Téléphone mobile",
               "Tél. mobile", "Mobile", "Numéro de portable", "Mobile phone"),
              ("Téléphone", "Tél", "Numéro de téléphone", "N° de téléphone", "Phone",
               "Phone number"),
              ("Téléphone fixe", "Tél. fixe", "Landline")),
    "email": (("E-mail", "Mail", "Courriel", "Adresse e-mail", "Adresse mail", "Adresse courriel",
               "Adresse électronique", "Mél", "Email address"),),
    "caf_number": (("N° CAF", "Nº CAF", "No CAF", "Numéro CAF", "Num CAF", "Numéro allocataire",
                    "Numéro d'allocataire", "N° allocataire", "Nº allocataire", "No allocataire",
                    "N° d'allocataire", "Num allocataire", "Matricule CAF", "Matricule",
                    "Identifiant CAF", "CAF number"),),
    "france_travail_id": (("Identifiant France Travail", "ID France Travail", "N° France Travail",
                           "Numéro France Travail", "IDE", "Identifiant Pôle emploi",
                           "ID Pôle emploi", "N° Pôle emploi", "Numéro Pôle emploi",
                           "Identifiant PE", "France Travail ID"),),
    "departement_id": (("Identifiant département", "ID département", "Identifiant départemental",
                        "Department ID"),),
    "postcode": (("Code postal", "CP", "Postcode", "Postal code", "Zip code", "Zip"),),
    "entered_on": (("Date d'entrée", "Date entrée", "Date d'orientation", "Date orientation",
                    "Date d'entrée dans le dispositif", "Entry date", "Date of entry"),),
    "sms_consent": (("Consentement SMS", "Accord SMS", "Opt-in SMS", "SMS consent"),),
    "email_consent": (("Consentement e-mail", "Consentement mail", "Consentement courriel",
                       "Accord e-mail", "Accord mail", "Opt-in e-mail", "Email consent"),),
    "prefers_call": (("Préfère être appelé", "Préfère être appelé(e)", "Préfère être appelée",
                      "Préfère un appel", "Prefers a call", "Prefers to be called"),),
}
# fmt: on

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the header said: encoding, delimiter, field -> 0-based column, ignored headers."""

    encoding: str  # "ascii" when the header and first chunk were; the rest is then sniffed
    delimiter: str
    columns: dict[str, int]
    ignored: tuple[str, ...]
    header_line: int
    header: tuple[str, ...] = ()  # as written, spaces collapsed


class CsvFormatError(Invalid):
    """The whole file is unusable: not a CSV, no header, missing or duplicate columns."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        line: int | None = None,
        column: int | None = None,
        header: tuple[str, ...] = (),
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"line {line}" if line is not None else "",
                f"column {column}" if column is not None else "",
            )
            if part
        )
        super().__init__(f"{where}: {detail}" if where else detail, code=code, field="file")
        self.line = line
        self.column = column
        self.header = header  # when the header was read: the columns a mapping may fix


@runtime_checkable
class BinaryReader(Protocol):
    """A file opened in binary mode, or anything with the same ``read``."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...


CsvSource = bytes | bytearray | BinaryReader | Iterable[bytes]


def normalize_header(text: str) -> str:
    """Header key: case, accents, punctuation and spaces removed ("N° CAF" -> "ncaf")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


_HEADER_INDEX: dict[str, tuple[str, int]] = {
    normalize_header(text): (name, rank)
    for name, groups in SYNONYMS.items()
    for rank, group in enumerate(((name,), *groups))
    for text in group
}


def read_rows(
    data: CsvSource,
    *,
    region: str = "FR",
    today: date,
    mapping: Mapping[str, str] | None = None,
) -> tuple[CsvLayout, Iterator[PersonRow | RowError]]:
    """Read the header now (raising ``CsvFormatError``) and return the layout and a lazy row stream.

    ``data`` is the whole file as bytes, a binary file object (read in chunks; keep it open
    while iterating) or an iterable of byte chunks. ``mapping`` maps header texts to field
    names (or to "" to ignore a column) and wins over the built-in synonyms. Iterating may
    still raise ``CsvFormatError`` ("malformed_csv", "undecodable") when the file breaks down
    past the header; the caller should then reject the whole file.
    """
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}")
    overrides = overrides_of(mapping)
    decoder = _Decoder()
    lines = _without_nul(_lines(decoder.texts(_chunks(data))))
    skipped = 0
    for first in lines:
        if first.strip():
            break
        skipped += 1
    else:
        raise CsvFormatError("empty_file", "the file has no header line", line=1)
    header_line = skipped + 1
    if "\x00" in first:
        raise CsvFormatError(
            "not_csv", "NUL characters: save the file as 'CSV UTF-8' or 'CSV (;)'", line=1
        )
    first = first.lstrip("\ufeff")
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(
        itertools.chain([first], lines), delimiter=delimiter, skipinitialspace=True, strict=False
    )
    try:
        header = [" ".join(cell.split()) for cell in next(reader)]
    except csv.Error as exc:
        raise CsvFormatError(
            "malformed_csv", f"unreadable header: {exc}", line=header_line
        ) from None
    columns, ignored = map_columns(header, overrides, header_line)
    layout = CsvLayout(decoder.encoding, delimiter, columns, ignored, header_line, tuple(header))
    checker = RowChecker(columns, header, region=region, today=today, source=decoder)
    return layout, _stream(reader, skipped, checker)


def overrides_of(mapping: Mapping[str, str] | None) -> dict[str, tuple[str, int]]:
    """A mapping of header texts to fields (or "" to ignore a column) as ``map_columns``
    takes it: by normalised header, winning over the synonyms."""
    overrides: dict[str, tuple[str, int]] = {}
    for text, name in (mapping or {}).items():
        if name and name not in FIELDS:
            raise ValueError(f"mapping sends {text!r} to unknown field {name!r}")
        overrides[normalize_header(text)] = (name, -1)
    return overrides


def _chunks(data: CsvSource) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray):
        view = memoryview(data)
        for start in range(0, len(view), _CHUNK):
            yield bytes(view[start : start + _CHUNK])
        return
    for piece in _read_all(data) if isinstance(data, BinaryReader) else data:
        if not isinstance(piece, bytes | bytearray):
            raise TypeError("read_rows wants bytes: open the file in binary mode ('rb')")
        yield bytes(piece)


def _read_all(stream: BinaryReader) -> Iterator[bytes]:
    while piece := stream.read(_CHUNK):
        yield piece


class _Reader(Protocol):
    """What ``csv.reader`` returns: rows, and how many source lines it has consumed."""

    @property
    def line_num(self) -> int: ...
    def __next__(self) -> list[str]: ...


class _Decoder:
    """Incremental bytes -> text, choosing the encoding at the first non-ASCII character."""

    def __init__(self) -> None:
        self.encoding = "ascii"
        self.lossy = False  # some bytes became U+DC80..U+DCFF: their rows get invalid_encoding
        self._decoder: codecs.IncrementalDecoder | None = None
        self._held = b""  # the first bytes of a character, while still undecided
        self._start = True

    def texts(self, chunks: Iterator[bytes]) -> Iterator[str]:
        try:
            for chunk in chunks:
                yield self._decode(chunk, final=False)
            yield self._decode(b"", final=True)
        except UnicodeDecodeError:
            raise CsvFormatError("undecodable", f"the file is not valid {self.encoding}") from None

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        if self._decoder is None:
            chunk, self._held = self._held + chunk, b""
            if self._start and chunk:
                self._start = False
                if chunk.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
                    raise CsvFormatError("not_csv", "this is an Excel workbook: export it as CSV")
                if chunk.startswith(_NOT_TABLES):
                    raise CsvFormatError("not_csv", "this is an image, a PDF or an archive")
                if chunk.startswith(codecs.BOM_UTF8):
                    self._choose("utf-8-sig")
                elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    self._choose("utf-16")
        if self._decoder is None:
            if chunk.isascii():
                return chunk.decode("ascii")
            sample = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(chunk, final)
            if sample.isascii():  # the chunk ends inside the first non-ASCII character
                self._held = chunk[len(sample) :]
                return sample
            # Strict UTF-8 wins; a stray bad byte among many good characters does not turn a
            # UTF-8 file into mojibake (that row alone gets invalid_encoding).
            invalid = len(UNDECODED.findall(sample))
            valid = len(sample) - len(sample.encode("ascii", "ignore")) - invalid
            self._choose("utf-8" if valid > invalid else "cp1252")
        assert self._decoder is not None
        text = self._decoder.decode(chunk, final)
        if not self.lossy and UNDECODED.search(text):
            self.lossy = True
        return text

    def _choose(self, encoding: str) -> None:
        self.encoding = encoding
        errors = "strict" if encoding == "utf-16" else "surrogateescape"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors)


def _lines(texts: Iterator[str]) -> Iterator[str]:
    """Split on \\r\\n, \\n or \\r only (as ``newline=""`` does), keeping the line endings."""
    pending: list[str] = []
    for text in texts:
        if "\n" not in text and "\r" not in text:
            if text:
                pending.append(text)
            continue
        pending.append(text)
        lines = io.StringIO("".join(pending), newline="").readlines()
        last = lines.pop()
        yield from lines
        if last.endswith("\n"):
            yield last
            pending = []
        else:  # unterminated, or a "\r" whose "\n" may start the next chunk
            pending = [last]
    if pending:
        yield "".join(pending)


# The first bytes of files that are surely not tables: PNG, JPEG, GIF, PDF, gzip, 7z, RAR.
_NOT_TABLES = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF-",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
)


def _without_nul(lines: Iterator[str]) -> Iterator[str]:
    """The lines, refusing the whole file at the first NUL character (a binary file, or a text
    saved as UTF-16 without its mark): no database stores it in a text."""
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise CsvFormatError(
                "not_csv",
                "NUL character: save the file as 'CSV UTF-8' or 'CSV (;)'",
                line=number,
                column=line.index("\x00") + 1,
            )
        yield line


def _sniff_delimiter(line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {sep: unquoted.count(sep) for sep in (";", "\t", ",")}
    return max(counts, key=lambda sep: counts[sep])  # ties keep the first: ";" then tab


def field_of(text: str, overrides: Mapping[str, tuple[str, int]]) -> str | None:
    """The field a header names (an override first), or None."""
    key = normalize_header(text)
    name, _ = overrides.get(key) or _HEADER_INDEX.get(key) or ("", 0)
    return name or None


def map_columns(
    header: list[str], overrides: Mapping[str, tuple[str, int]], line: int
) -> tuple[dict[str, int], tuple[str, ...]]:
    chosen: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
    ignored: list[str] = []
    for index, text in enumerate(header):
        key = normalize_header(text)
        name, rank = overrides.get(key) or _HEADER_INDEX.get(key) or ("", 0)
        if not name:
            if text:
                ignored.append(text)
            continue
        if name not in chosen or rank < chosen[name][0]:
            if name in chosen:
                ignored.append(header[chosen[name][1]])
            chosen[name] = (rank, index)
        elif rank > chosen[name][0]:
            ignored.append(text)
        else:
            other = chosen[name][1]
            raise CsvFormatError(
                "duplicate_column",
                f"columns {other + 1} ({header[other]!r}) and {index + 1} ({text!r}) both give"
                f" {name}: remove one or pass a mapping",
                line=line,
                column=index + 1,
                header=tuple(header),
            )
    missing = [name for name in REQUIRED_FIELDS if name not in chosen]
    if missing:
        raise CsvFormatError(
            "missing_columns",
            f"no column for {', '.join(missing)}: the first line must be a header with at least"
            " 'Nom' and 'Prénom', separated by ';', ',' or tabs",
            line=line,
            header=tuple(header),
        )
    columns = {name: index for name, (_, index) in sorted(chosen.items(), key=lambda kv: kv[1][1])}
    return columns, tuple(ignored)


MAX_LINES_PER_ROW = 20  # an address with line breaks needs a few, never this many


def _stream(reader: _Reader, offset: int, checker: RowChecker) -> Iterator[PersonRow | RowError]:
    line_num = reader.line_num
    while True:
        line = offset + line_num + 1  # physical line where the next row starts
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFormatError("malformed_csv", f"unreadable CSV: {exc}", line=line) from None
        spanned = reader.line_num - line_num
        line_num = reader.line_num
        if spanned > MAX_LINES_PER_ROW:
            # A quote opened and never closed swallows the rest of the file into one cell:
            # refuse the file rather than lose those rows without a word.
            raise CsvFormatError(
                "malformed_csv",
                f'a quote (") opened in this row is not closed: the row runs over {spanned} '
                "lines; close the quote or remove it",
                line=line,
            )
        if not "".join(cells).strip():
            continue
        result = checker.check(line, cells)
        if isinstance(result, PersonRow):
            yield result
        else:
            yield from result
