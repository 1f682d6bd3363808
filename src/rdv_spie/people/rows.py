"""One row of people, checked: the cells of a CSV line or the fields of a JSON person become a
``PersonRow`` (normalised) or the ``RowError``s that reject it, each naming its line, column and
field. The same rules for the file and the API: both call ``RowChecker``.

Pure: no I/O, no database, no clock reads (the caller passes ``today``). Never puts a phone
number, an e-mail address or a name in an error detail (dates may be echoed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from rdv_spie.people import contact

FIELDS = (
    "last_name", "first_name", "birth_on", "phone", "email", "caf_number", "france_travail_id",
    "departement_id", "postcode", "entered_on", "sms_consent", "email_consent", "prefers_call",
)  # fmt: skip
REQUIRED_FIELDS = ("last_name", "first_name")
NAME_MAX, ID_MAX = 100, 50
_DATE = re.compile(
    r"(?:(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_DATE_LIKE = re.compile(r"[0-9/.: T-]{1,30}")
UNDECODED = re.compile("[\udc80-\udcff]")  # bytes a file's encoding could not read
_BOOLEANS = {
    **dict.fromkeys(("oui", "o", "yes", "y", "1", "x", "vrai", "true"), True),
    **dict.fromkeys(("non", "n", "no", "0", "faux", "false"), False),
}

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


class Source(Protocol):
    """What the cells were read from: its encoding, and whether some bytes could not be read
    (their rows are then rejected with ``invalid_encoding``)."""

    @property
    def encoding(self) -> str: ...
    @property
    def lossy(self) -> bool: ...


class _Bad(Exception):
    """A cell parser's verdict: the code and detail of its ``RowError``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


class RowChecker:
    """Turns the cells of one row into a ``PersonRow`` or its errors. ``columns`` maps each
    field to its 0-based cell, ``header`` names the cells as the source wrote them."""

    def __init__(
        self,
        columns: Mapping[str, int],
        header: list[str],
        *,
        region: str,
        today: date,
        source: Source | None = None,
    ) -> None:
        self.width = len(header)
        self.region, self.today, self.source = region, today, source
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
            (name, index, header[index], parsers[name]) for name, index in columns.items()
        )
        self.columns: Columns = MappingProxyType(
            {name: (index + 1, header[index]) for name, index in columns.items()}
        )

    def check(self, line: int, cells: list[str]) -> PersonRow | list[RowError]:
        """Validate one non-empty row."""
        if len(cells) != self.width:
            detail = f"the row has {len(cells)} cells but the header has {self.width}"
            return [RowError(line, None, None, None, "wrong_column_count", detail)]
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        lossy = self.source is not None and self.source.lossy
        for name, index, header, parse in self.cells:
            text = " ".join(cells[index].split())
            try:
                if not text:
                    if name in REQUIRED_FIELDS:
                        raise _Bad("missing_value", f"{name} is empty")
                    value = None
                elif lossy and self.source is not None and UNDECODED.search(text):
                    raise _Bad("invalid_encoding", f"bytes that are not {self.source.encoding}")
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
        found = contact.phone(text, self.region)
        if found is None:
            raise _Bad("invalid_phone", f"not a valid phone number (region {self.region})")
        return found

    def _email(self, text: str) -> str:
        found = contact.email(text, self.domains)
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
