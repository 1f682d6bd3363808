"""Intake CSV rows: encodings, delimiters, line numbers, header synonyms, every error code with its
place, overseas phones, no personal data in details, and property tests (round trip whatever the
chunking, fast paths against the libraries, arbitrary bytes)."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date, timedelta

import phonenumbers
import pytest
from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from rdv_spie.people import contact
from rdv_spie.people.rows import PersonRow, RowError
from rdv_spie.people.table import SYNONYMS, CsvFormatError, normalize_header, read_rows

TODAY = date(2026, 12, 1)
HEADER = "Nom;Prénom;Téléphone;E-mail;Date de naissance;Date d'entrée;N° CAF;CP;Consentement SMS"


def read(data: str | bytes, region: str = "FR") -> list[PersonRow | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(read_rows(raw, today=TODAY, region=region)[1])


def one_row(data: str, region: str = "FR") -> PersonRow:
    (row,) = read(data, region)
    assert isinstance(row, PersonRow), row
    return row


def test_utf8_with_bom_and_cp1252_accents_come_out_right() -> None:
    text = "Nom;Prénom;Tél\r\nLefèvre;Zoé;06 12 34 56 78\r\n"
    for data, encoding in (
        (b"\xef\xbb\xbf" + text.encode(), "utf-8-sig"),
        (text.encode("cp1252"), "cp1252"),
    ):
        layout, rows = read_rows(data, today=TODAY)
        (row,) = rows
        assert layout.encoding == encoding
        assert layout.columns == {"last_name": 0, "first_name": 1, "phone": 2}
        assert isinstance(row, PersonRow) and (row.last_name, row.first_name) == ("Lefèvre", "Zoé")


def test_cp1252_is_recognised_after_a_long_ascii_start() -> None:
    text = "Nom;Prenom;Tel\n" + "Martin;Paul;0612345678\n" * 5000 + "Lefèvre;Zoé;0612345678\n"
    layout, rows = read_rows(io.BytesIO(text.encode("cp1252")), today=TODAY)
    *_, last = rows
    assert layout.encoding == "ascii"  # decided later, at the first non-ASCII byte
    assert isinstance(last, PersonRow) and (last.line, last.last_name) == (5002, "Lefèvre")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_delimiters_and_quoted_newlines_keep_physical_lines(delimiter: str, newline: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(
        [
            ["Nom", "Prénom", "E-mail"],
            [f"Du{newline}pont, fils; aîné", "Jean", "jean@example.fr"],
            ["Martin", "", "x@example.fr"],
        ]
    )
    layout, rows = read_rows(out.getvalue().encode(), today=TODAY)
    first, error = rows
    assert layout.delimiter == delimiter
    assert isinstance(first, PersonRow) and first.line == 2
    assert first.last_name == "Du pont, fils; aîné"
    assert isinstance(error, RowError) and (error.line, error.column) == (4, 2)
    assert (error.header, error.field, error.code) == ("Prénom", "first_name", "missing_value")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("NOM D'USAGE", "last_name"), ("Prénom(s)", "first_name"), ("DDN", "birth_on"),
        ("Tél.", "phone"), ("Portable", "phone"), ("Courriel", "email"),
        ("Adresse e-mail", "email"), ("N° CAF", "caf_number"), ("Numéro allocataire", "caf_number"),
        ("Matricule CAF", "caf_number"), ("IDE", "france_travail_id"),
        ("Identifiant Pôle emploi", "france_travail_id"), ("ID département", "departement_id"),
        ("C.P.", "postcode"), ("Date d'orientation", "entered_on"),
        ("Date d'entrée dans le dispositif", "entered_on"), ("CONSENTEMENT MAIL", "email_consent"),
        ("Préfère être appelé(e)", "prefers_call"), ("france_travail_id", "france_travail_id"),
    ],
)  # fmt: skip
def test_header_synonyms(header: str, field: str) -> None:
    base = {"last_name": "Prénom", "first_name": "Nom"}.get(field, "Nom;Prénom")
    layout, _ = read_rows(f"{base};{header}\n".encode(), today=TODAY)
    assert layout.columns[field] == base.count(";") + 1


def test_no_header_text_points_at_two_fields() -> None:
    seen: dict[str, str] = {}
    for field, groups in SYNONYMS.items():
        for text in (field, *(text for group in groups for text in group)):
            assert seen.setdefault(normalize_header(text), field) == field, text


def test_preferred_columns_and_custom_mapping() -> None:
    layout, _ = read_rows("Nom de naissance;Nom;Prénom;Tél;Portable;Divers\n".encode(), today=TODAY)
    assert layout.columns == {"last_name": 1, "first_name": 2, "phone": 4}
    assert layout.ignored == ("Nom de naissance", "Tél", "Divers")
    mapping = {"Tel. perso": "phone", "Nom": "", "Nom de naissance": "last_name"}
    header = "Nom de naissance;Nom;Prénom;Tel. perso\n".encode()
    layout, _ = read_rows(header, today=TODAY, mapping=mapping)
    assert layout.columns == {"last_name": 0, "first_name": 2, "phone": 3}
    with pytest.raises(ValueError, match="unknown field"):
        read_rows(b"Nom;Prenom\n", today=TODAY, mapping={"X": "shoe_size"})


@pytest.mark.parametrize(
    ("data", "code", "line", "column"),
    [
        (b"", "empty_file", 1, None),
        (b"\r\n \r\n", "empty_file", 1, None),
        ("Nom;Téléphone\n1;2\n".encode(), "missing_columns", 1, None),
        ("\nNom;Prénom;Tél;Téléphone\n".encode(), "duplicate_column", 2, 4),
        (b"PK\x03\x04\x14\x00\x06\x00", "not_csv", None, None),
        ("Nom;Prénom\n".encode("utf-16-le"), "not_csv", 1, 2),
    ],
)
def test_unusable_files(data: bytes, code: str, line: int | None, column: int | None) -> None:
    with pytest.raises(CsvFormatError) as caught:
        read_rows(data, today=TODAY)
    assert (caught.value.code, caught.value.line, caught.value.column) == (code, line, column)


def test_a_runaway_quote_stops_the_file_at_its_line() -> None:
    _, rows = read_rows(b'Nom;Prenom;Tel\nA;B;0612345678\n"C;' + b"x" * 200_000, today=TODAY)
    assert isinstance(next(rows), PersonRow)
    with pytest.raises(CsvFormatError) as caught:
        next(rows)
    assert (caught.value.code, caught.value.line) == ("malformed_csv", 3)


def test_each_error_code_with_its_line_and_column() -> None:
    body = [
        "Dupont;Jean;06 12;;;;;;",
        "Dupont;Jean;;jean@;;;;;",
        "Dupont;Jean;0612345678;;31/02/2000;;;;",
        "Dupont;Jean;0612345678;;01/01/2020;;;;",
        "Dupont;Jean;0612345678;;;2024-11-30;;;",
        f"{'x' * 101};Jean;0612345678;;;;{'1' * 51};;",
        "Dupont;Jean;0612345678;;;;;750;peut-être",
        "Dupont;Jean;;;;;;;",
        "Dupont;Jean;0612345678",
        ";;;;;;;;",
        ";  ;0612;x@;;;;;",
    ]
    found = [(e.line, e.column, e.field, e.code) for e in read("\n".join([HEADER, *body]))]
    assert found == [
        (2, 3, "phone", "invalid_phone"),
        (3, 4, "email", "invalid_email"),
        (4, 5, "birth_on", "invalid_date"),
        (5, 5, "birth_on", "implausible_birth_date"),
        (6, 6, "entered_on", "implausible_date"),
        (7, 1, "last_name", "too_long"),
        (7, 7, "caf_number", "too_long"),
        (8, 8, "postcode", "invalid_postcode"),
        (8, 9, "sms_consent", "invalid_boolean"),
        (9, None, None, "no_contact"),
        (10, None, None, "wrong_column_count"),
        (12, 1, "last_name", "missing_value"),
        (12, 2, "first_name", "missing_value"),
        (12, 3, "phone", "invalid_phone"),
        (12, 4, "email", "invalid_email"),
    ]


def test_values_are_normalised() -> None:
    cells = (
        " Le  Goff ; Anne\xa0Marie ;0033 6.12.34.56.78;A.B@Example.FR;1.2.1990;2026-11-30;;1000;NON"
    )
    row = one_row(f"{HEADER}\n{cells}\n")
    assert (row.last_name, row.first_name) == ("Le Goff", "Anne Marie")
    assert (row.phone, row.email, row.postcode) == ("+33612345678", "A.B@example.fr", "01000")
    assert (row.birth_on, row.entered_on) == (date(1990, 2, 1), date(2026, 11, 30))
    assert (row.sms_consent, row.email_consent, row.prefers_call) == (False, True, False)


@pytest.mark.parametrize(
    ("region", "raw", "e164", "sms"),
    [
        ("GF", "0694 20 12 34", "+594694201234", True),
        ("GF", "0594 29 00 00", "+594594290000", False),
        ("RE", "0692 12 34 56", "+262692123456", True),
        ("YT", "0639 01 23 45", "+262639012345", True),
        ("FR", "0694 20 12 34", "+594694201234", True),
        ("GF", "06 12 34 56 78", "+33612345678", True),
        ("FR", "01 42 68 53 00", "+33142685300", False),
        ("FR", "612345678", "+33612345678", True),
        ("FR", "+33 (0)6 12 34 56 78", "+33612345678", True),
        ("FR", "+32 470 12 34 56", "+32470123456", True),
    ],
)  # fmt: skip
def test_phones_of_france_and_overseas(region: str, raw: str, e164: str, sms: bool) -> None:
    row = one_row(f"Nom;Prénom;Tél\nHoarau;Léa;{raw}\n", region)
    assert (row.phone, row.sms_consent) == (e164, sms)


def test_an_undecodable_byte_rejects_only_its_row() -> None:
    data = "Nom;Prénom;Tél\nÉric;Zoé;0612345678\nA\x00;B;0612345678\nC;D;0612345678\n".encode()
    rows = read(data.replace(b"\x00", b"\xff"))
    assert [type(r).__name__ for r in rows] == ["PersonRow", "RowError", "PersonRow"]
    assert isinstance(rows[1], RowError) and (rows[1].line, rows[1].code) == (3, "invalid_encoding")


SECRET = "Qz7"  # put in every generated phone and e-mail; must never show in an error
junk = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=12)


@given(phone=junk, email=junk, other=st.sampled_from(["", "31/02/2000", "peut-être", "12"]))
def test_no_phone_or_email_ever_appears_in_an_error(phone: str, email: str, other: str) -> None:
    out = io.StringIO()
    cells = ["N", "J", phone + SECRET, f"{SECRET}{email}@{SECRET}", other, other, "", other, other]
    csv.writer(out, delimiter=";").writerow(cells)
    for error in read(f"{HEADER}\n{out.getvalue()}"):
        assert isinstance(error, RowError) and SECRET not in error.detail


letters = "abcdefghijklmnopqrstuvwxyzÉéèçàÿœ"
names = st.tuples(st.sampled_from(letters), st.text(st.sampled_from(letters + "' -;,\"\n"))).map(
    "".join
)
people = st.tuples(
    names,
    names,
    st.integers(600_000_000, 638_999_999),  # all valid French mobiles
    st.sampled_from(
        ["0{}", "+33 {}", "0033{}", "0{} {}{} {}{} {}{} {}{}", "+33 ({}) {}{}.{}{}.{}{}.{}{}"]
    ),
    st.from_regex(r"[A-Za-z0-9]{1,9}(\.[A-Za-z0-9_+'-]{1,9}){0,2}", fullmatch=True),
    st.sampled_from(["example.fr", "Orange.FR", "laposte.net", "bücher.example"]),
    st.dates(date(1907, 1, 1), date(2010, 1, 1)),
    st.dates(TODAY - timedelta(days=700), TODAY + timedelta(days=90)),
    st.sampled_from(["oui", "NON", "x", ""]),
)
Person = tuple[str, str, int, str, str, str, date, date, str]


@given(
    st.lists(people, min_size=1, max_size=6),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    st.integers(1, 64),
)
@settings(max_examples=80)
def test_valid_rows_round_trip_whatever_the_chunking(
    rows: list[Person], delimiter: str, encoding: str, chunk: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Nom", "Prénom", "Portable", "Courriel", "DDN", "Date d'entrée", "Appel ?"])
    expected, line = [], 2
    for last, first, mobile, style, local, domain, born, entered, call in rows:
        email = f"{local}@{domain}"
        normalized = validate_email(email, check_deliverability=False).normalized
        phone = style.format(*str(mobile)) if "{}{}" in style else style.format(mobile)
        cells = [last, first, phone, email, born.strftime("%d/%m/%Y")]
        writer.writerow([*cells, entered.isoformat(), call])
        name = (" ".join(last.split()), " ".join(first.split()))
        expected.append(
            (line, *name, f"+33{mobile}", normalized, born, entered, call in ("oui", "x"))
        )
        line += 1 + last.count("\n") + first.count("\n")
    data = out.getvalue().encode(encoding)
    pieces = (data[i : i + chunk] for i in range(0, len(data), chunk))
    mapping = {"Appel ?": "prefers_call"}
    got = list(read_rows(pieces, today=TODAY, mapping=mapping)[1])
    assert all(isinstance(r, PersonRow) for r in got), got
    fields = ["line", "last_name", "first_name", "phone", "email", "birth_on", "entered_on"]
    assert [(*(getattr(r, f) for f in fields), r.prefers_call) for r in got] == expected


plan_numbers = st.builds(
    "{}{}{:08d}".format,
    st.sampled_from(["0", "", "+33", "0033", "+594", "+262 ", "00590", "+596", "+3306"]),
    st.sampled_from("123456789"),
    st.integers(0, 99_999_999),
)


@given(
    st.one_of(plan_numbers, st.text(st.sampled_from("0123456789 .+-()"), max_size=18)),
    st.sampled_from(["FR", "GF", "RE", "GP", "MQ", "YT", "BL"]),
)
@settings(max_examples=500)
def test_the_phone_fast_path_agrees_with_phonenumbers(raw: str, region: str) -> None:
    assert contact.phone(raw, region) == contact.phone_slow(raw, region)
    if (found := contact.phone(raw, region)) is not None:
        assert phonenumbers.is_valid_number(phonenumbers.parse(found[0]))


@given(
    st.from_regex(r"[A-Za-z0-9._%+'é-]{1,70}|WWW|Abuse|postmaster", fullmatch=True),
    st.sampled_from(
        ["Example.FR", "a-b.co", "x.invalid", "localhost", "xn--bcher-kva.example", "-bad.fr"]
    ),
)
@settings(max_examples=400)
def test_the_email_fast_path_agrees_with_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert contact.email(address, {}) == contact.email_slow(address)


@given(
    st.sampled_from([b"", b"Nom;Prenom;Tel\n", "Nom,Prénom,Mail\r\n".encode("cp1252")]),
    st.binary(max_size=300),
)
def test_arbitrary_bytes_raise_nothing_but_csv_format_errors(header: bytes, data: bytes) -> None:
    with contextlib.suppress(CsvFormatError):
        list(read_rows(header + data, today=TODAY)[1])
