"""Intake CSV rows: decode, sniff, map and validate a département's export of newly eligible
people, one ``PersonRow`` or a few ``RowError`` per physical row.

Pure: no I/O besides pulling bytes from the source it is handed, no database, no clock reads
(the caller passes ``today``). It never writes anything, never decides what to do with a person,
and never puts a phone number, an e-mail address or a name in an error detail (dates may be
echoed). The import service owns upserts; this module only says what each row means.

Streaming: the source is read in 64 KiB chunks and decoded incrementally, so a 100,000-row file
is never held twice. Encoding: a BOM wins (UTF-8 or UTF-16); otherwise ASCII until the first
chunk holding a non-ASCII byte (the "header + sample"): UTF-8 when it decodes as such, or
mostly so, else Windows-1252. Bytes undecodable after that choice reject only their row
(``invalid_encoding``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers import PhoneNumber, PhoneNumberType

from rdv_spie.errors import Invalid

FIELDS = (
    "last_name", "first_name", "birth_on", "phone", "email", "caf_number", "france_travail_id",
    "departement_id", "postcode", "entered_on", "sms_consent", "email_consent", "prefers_call",
)  # fmt: skip
REQUIRED_FIELDS = ("last_name", "first_name")

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
_PLAN_CODES = {"FR": 33, "GP": 590, "BL": 590, "MF": 590, "GF": 594, "MQ": 596, "RE": 262,
               "YT": 262}  # one 10-digit national plan: 0694… is Guyane from Paris too
# fmt: on

NAME_MAX, ID_MAX = 100, 50
_CHUNK = 1 << 16
_PLAN_FALLBACK = ("FR", "GP", "GF", "MQ", "RE")  # one region per calling code of the plan
_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_PHONE_JUNK = str.maketrans("", "", " .-/")
_NATIONAL = re.compile(r"0?([1-9]\d{8})")
_INTERNATIONAL = re.compile(r"(?:\+|00)(33|590|594|596|262)([1-9]\d{8})")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_DATE = re.compile(
    r"(?:(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_DATE_LIKE = re.compile(r"[0-9/.: T-]{1,30}")
_UNDECODED = re.compile("[\udc80-\udcff]")
_BOOLEANS = {
    **dict.fromkeys(("oui", "o", "yes", "y", "1", "x", "vrai", "true"), True),
    **dict.fromkeys(("non", "n", "no", "0", "faux", "false"), False),
}
_DOMAIN_CACHE_MAX = 4096
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)  # lowercased by email-validator

# Where each field of a row was read: field -> (1-based column or None, header as written).
Columns = Mapping[str, tuple[int | None, str]]
_NO_COLUMNS: Columns = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One valid row, normalised; ``line`` is the physical line where the row starts."""

    line: int
    first_name: str
    last_name: str
    birth_on: date | None
    phone: str | None  # E.164
    email: str | None  # as normalised by email-validator
    caf_number: str | None
    france_travail_id: str | None
    departement_id: str | None
    postcode: str | None  # five digits
    entered_on: date | None  # None = the import day
    sms_consent: bool
    email_consent: bool
    prefers_call: bool
    # One mapping shared by every row of a file, so the import can point at a cell.
    columns: Columns = field(default_factory=lambda: _NO_COLUMNS, compare=False, repr=False)

    def where(self, name: str) -> tuple[int | None, str | None]:
        """The column and header a field was read from (None, None when not known)."""
        return self.columns.get(name, (None, None))


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one row; a row with any error is rejected as a whole."""

    line: int
    column: int | None  # 1-based; None when not about one column
    header: str | None  # as written in the file
    field: str | None
    code: str
    detail: str  # English; never the phone, e-mail or name it is about


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the header said: encoding, delimiter, field -> 0-based column, ignored headers."""

    encoding: str  # "ascii" when the header and first chunk were; the rest is then sniffed
    delimiter: str
    columns: dict[str, int]
    ignored: tuple[str, ...]
    header_line: int


class CsvFormatError(Invalid):
    """The whole file is unusable: not a CSV, no header, missing or duplicate columns."""

    def __init__(
        self, code: str, detail: str, *, line: int | None = None, column: int | None = None
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
    overrides: dict[str, tuple[str, int]] = {}
    for text, name in (mapping or {}).items():
        if name and name not in FIELDS:
            raise ValueError(f"mapping sends {text!r} to unknown field {name!r}")
        overrides[normalize_header(text)] = (name, -1)
    decoder = _Decoder()
    lines = _lines(decoder.texts(_chunks(data)))
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
    columns, ignored = _map_columns(header, overrides, header_line)
    layout = CsvLayout(decoder.encoding, delimiter, columns, ignored, header_line)
    checker = _RowChecker(layout, header, region, today, decoder)
    return layout, _stream(reader, skipped, checker)


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
            invalid = len(_UNDECODED.findall(sample))
            valid = len(sample) - len(sample.encode("ascii", "ignore")) - invalid
            self._choose("utf-8" if valid > invalid else "cp1252")
        assert self._decoder is not None
        text = self._decoder.decode(chunk, final)
        if not self.lossy and _UNDECODED.search(text):
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


def _sniff_delimiter(line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {sep: unquoted.count(sep) for sep in (";", "\t", ",")}
    return max(counts, key=lambda sep: counts[sep])  # ties keep the first: ";" then tab


def _map_columns(
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
            )
    missing = [name for name in REQUIRED_FIELDS if name not in chosen]
    if missing:
        raise CsvFormatError(
            "missing_columns",
            f"no column for {', '.join(missing)}: the first line must be a header with at least"
            " 'Nom' and 'Prénom', separated by ';', ',' or tabs",
            line=line,
        )
    columns = {name: index for name, (_, index) in sorted(chosen.items(), key=lambda kv: kv[1][1])}
    return columns, tuple(ignored)


MAX_LINES_PER_ROW = 20  # an address with line breaks needs a few, never this many


def _stream(reader: _Reader, offset: int, checker: _RowChecker) -> Iterator[PersonRow | RowError]:
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


class _Bad(Exception):
    """A cell parser's verdict: the code and detail of its ``RowError``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


class _RowChecker:
    """Turns the cells of one row into a ``PersonRow`` or its errors."""

    def __init__(
        self, layout: CsvLayout, header: list[str], region: str, today: date, decoder: _Decoder
    ) -> None:
        self.width = len(header)
        self.region, self.today, self.decoder = region, today, decoder
        self.domains: dict[str, str | None] = {}
        self.entry_bounds = (_years_before(today, 2), today + timedelta(days=90))
        parsers: dict[str, Callable[[str], object]] = {
            "last_name": _name, "first_name": _name, "birth_on": self._birth_on,
            "phone": self._phone, "email": self._email, "caf_number": _identifier,
            "france_travail_id": _identifier, "departement_id": _identifier,
            "postcode": _postcode, "entered_on": self._entered_on, "sms_consent": _boolean,
            "email_consent": _boolean, "prefers_call": _boolean,
        }  # fmt: skip
        self.cells = tuple(
            (name, index, header[index], parsers[name]) for name, index in layout.columns.items()
        )
        self.columns: Columns = MappingProxyType(
            {name: (index + 1, header[index]) for name, index in layout.columns.items()}
        )

    def check(self, line: int, cells: list[str]) -> PersonRow | list[RowError]:
        """Validate one non-empty row."""
        if len(cells) != self.width:
            detail = f"the row has {len(cells)} cells but the header has {self.width}"
            return [RowError(line, None, None, None, "wrong_column_count", detail)]
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        lossy = self.decoder.lossy
        for name, index, header, parse in self.cells:
            text = " ".join(cells[index].split())
            try:
                if not text:
                    if name in REQUIRED_FIELDS:
                        raise _Bad("missing_value", f"{name} is empty")
                    value = None
                elif lossy and _UNDECODED.search(text):
                    raise _Bad("invalid_encoding", f"bytes that are not {self.decoder.encoding}")
                else:
                    value = parse(text)
            except _Bad as bad:  # kept as the value, so a bad phone is not also "no contact"
                value = bad
                errors.append(RowError(line, index + 1, header, name, bad.code, bad.detail))
            values[name] = value
        get = values.get
        if get("phone") is None and get("email") is None:
            detail = "no phone number and no e-mail address"
            errors.append(RowError(line, None, None, None, "no_contact", detail))
        if errors:
            return errors
        phone, sms_capable = get("phone") or (None, False)
        email = get("email")
        return PersonRow(
            line=line,
            first_name=values["first_name"],
            last_name=values["last_name"],
            birth_on=get("birth_on"),
            phone=phone,
            email=email,
            caf_number=get("caf_number"),
            france_travail_id=get("france_travail_id"),
            departement_id=get("departement_id"),
            postcode=get("postcode"),
            entered_on=get("entered_on"),
            sms_consent=sms_capable and get("sms_consent") is not False,
            email_consent=email is not None and get("email_consent") is not False,
            prefers_call=phone is not None and get("prefers_call") is True,
            columns=self.columns,
        )

    def _birth_on(self, text: str) -> date:
        born = _date(text)
        today = self.today
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born < date(1900, 1, 1) or not 15 <= age <= 120:
            detail = f"born {born.isoformat()}: expected an age of 15 to 120 on {today.isoformat()}"
            raise _Bad("implausible_birth_date", detail)
        return born

    def _entered_on(self, text: str) -> date:
        entered = _date(text)
        low, high = self.entry_bounds
        if not low <= entered <= high:
            detail = f"{entered.isoformat()} is outside {low.isoformat()}..{high.isoformat()}"
            raise _Bad("implausible_date", detail)
        return entered

    def _phone(self, text: str) -> tuple[str, bool]:
        found = _phone(text, self.region)
        if found is None:
            raise _Bad("invalid_phone", f"not a valid phone number (region {self.region})")
        return found

    def _email(self, text: str) -> str:
        found = _email(text, self.domains)
        if found is None:
            raise _Bad("invalid_email", "not a valid e-mail address (name@domain.tld)")
        return found


def _name(text: str) -> str:
    if len(text) > NAME_MAX:
        raise _Bad("too_long", f"{len(text)} characters, at most {NAME_MAX}")
    return text


def _identifier(text: str) -> str:
    if len(text) > ID_MAX:
        raise _Bad("too_long", f"{len(text)} characters, at most {ID_MAX}")
    return text


def _postcode(text: str) -> str:
    code = text.replace(" ", "")
    if len(code) == 4 and code.isdigit():
        code = "0" + code  # a spreadsheet dropped the leading zero
    if len(code) != 5 or not (code.isdigit() and code.isascii()):
        raise _Bad("invalid_postcode", "expected a French postcode of 5 digits")
    return code


def _boolean(text: str) -> bool:
    found = _BOOLEANS.get(text.casefold())
    if found is None:
        raise _Bad("invalid_boolean", "expected oui/non, yes/no, 1/0, x, vrai/faux")
    return found


def _date(text: str) -> date:
    found = _parse_date(text)
    if found is None:
        shown = repr(text) if _DATE_LIKE.fullmatch(text) else "the value"
        raise _Bad("invalid_date", f"{shown} is not a date: expected dd/mm/yyyy or yyyy-mm-dd")
    return found


def _parse_date(value: str) -> date | None:
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    if match["y"] is not None:
        year, month, day = match["y"], match["m"], match["d"]
    else:
        year, month, day = match["iy"], match["im"], match["id"]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _phone(raw: str, region: str) -> tuple[str, bool] | None:
    """E.164 and whether it takes SMS, or None when invalid; fast path for the French plan."""
    own = _PLAN_CODES.get(region)
    if own is not None:
        digits = raw.translate(_PHONE_JUNK)
        if match := _INTERNATIONAL.fullmatch(digits):
            codes: tuple[int, ...] = (int(match[1]),)
        elif match := _NATIONAL.fullmatch(digits):
            codes = (own, *(c for c in (33, 590, 594, 596, 262) if c != own))
        else:
            return _phone_slow(raw, region)
        national = match[match.lastindex or 0]
        for code in codes:
            kind = phonenumbers.number_type(
                PhoneNumber(country_code=code, national_number=int(national))
            )
            if kind != PhoneNumberType.UNKNOWN:  # E.164 is this plain when there is no leading 0
                return f"+{code}{national}", kind in _SMS_TYPES
        return None
    return _phone_slow(raw, region)


def _phone_slow(raw: str, region: str) -> tuple[str, bool] | None:
    """The reference: ``phonenumbers.parse`` in ``region``, then the other regions of the plan."""
    regions = [region]
    if region in _PLAN_CODES and not raw.lstrip().startswith(("+", "00")):
        regions += [r for r in _PLAN_FALLBACK if _PLAN_CODES[r] != _PLAN_CODES[region]]
    for candidate in regions:
        try:
            number = phonenumbers.parse(raw, candidate)
        except phonenumbers.NumberParseException:
            return None
        if number.extension:
            return None
        # number_type() is UNKNOWN exactly when is_valid_number() is False (same region lookup).
        kind = phonenumbers.number_type(number)
        if kind != PhoneNumberType.UNKNOWN:
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, kind in _SMS_TYPES
    return None


def _email(raw: str, domains: dict[str, str | None]) -> str | None:
    """Normalised address or None; plain ASCII addresses validate their domain once per file."""
    match = _PLAIN_EMAIL.fullmatch(raw)
    if match is None or len(match[1]) > 64 or len(raw) > 254 or match[1].lower() in _ROLE_MAILBOXES:
        return _email_slow(raw)
    key = match[2].lower()
    if key not in domains:
        if len(domains) >= _DOMAIN_CACHE_MAX:
            return _email_slow(raw)
        checked = _email_slow("a@" + key)
        domains[key] = None if checked is None else checked.partition("@")[2]
    domain = domains[key]
    return None if domain is None else f"{match[1]}@{domain}"


def _email_slow(raw: str) -> str | None:
    """The reference: email-validator without DNS."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
