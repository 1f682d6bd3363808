"""Phone numbers and e-mail addresses as the service keeps them: E.164 and whether the number
takes SMS; an address as email-validator normalises it (no DNS). Also a name reduced to its
letters, for matching people. Pure: used by the intake (CSV and JSON), and by the public pages
for a number a person types.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers import PhoneNumber, PhoneNumberType

# fmt: off
_PLAN_CODES = {"FR": 33, "GP": 590, "BL": 590, "MF": 590, "GF": 594, "MQ": 596, "RE": 262,
               "YT": 262}  # one 10-digit national plan: 0694… is Guyane from Paris too
# fmt: on
_PLAN_FALLBACK = ("FR", "GP", "GF", "MQ", "RE")  # one region per calling code of the plan
_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_PHONE_JUNK = str.maketrans("", "", " .-/")
_NATIONAL = re.compile(r"0?([1-9]\d{8})")
_INTERNATIONAL = re.compile(r"(?:\+|00)(33|590|594|596|262)([1-9]\d{8})")
_LONGEST_TYPED = 40  # characters a person types: longer is not a phone number
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_DOMAIN_CACHE_MAX = 4096
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)  # lowercased by email-validator
# Letters NFKD does not split into a base letter and a mark; "ı" because a person types the
# dotless i of "Yıldız" as "I" or "i".
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i"}
)


def phone(raw: str, region: str) -> tuple[str, bool] | None:
    """E.164 and whether it takes SMS, or None when invalid; fast path for the French plan."""
    own = _PLAN_CODES.get(region)
    if own is not None:
        digits = raw.translate(_PHONE_JUNK)
        if match := _INTERNATIONAL.fullmatch(digits):
            codes: tuple[int, ...] = (int(match[1]),)
        elif match := _NATIONAL.fullmatch(digits):
            codes = (own, *(c for c in (33, 590, 594, 596, 262) if c != own))
        else:
            return phone_slow(raw, region)
        national = match[match.lastindex or 0]
        for code in codes:
            kind = phonenumbers.number_type(
                PhoneNumber(country_code=code, national_number=int(national))
            )
            if kind != PhoneNumberType.UNKNOWN:  # E.164 is this plain when there is no leading 0
                return f"+{code}{national}", kind in _SMS_TYPES
        return None
    return phone_slow(raw, region)


def phone_slow(raw: str, region: str) -> tuple[str, bool] | None:
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


def email(raw: str, domains: dict[str, str | None]) -> str | None:
    """Normalised address or None; plain ASCII addresses validate their domain once per file."""
    match = _PLAIN_EMAIL.fullmatch(raw)
    if match is None or len(match[1]) > 64 or len(raw) > 254 or match[1].lower() in _ROLE_MAILBOXES:
        return email_slow(raw)
    key = match[2].lower()
    if key not in domains:
        if len(domains) >= _DOMAIN_CACHE_MAX:
            return email_slow(raw)
        checked = email_slow("a@" + key)
        domains[key] = None if checked is None else checked.partition("@")[2]
    domain = domains[key]
    return None if domain is None else f"{match[1]}@{domain}"


def email_slow(raw: str) -> str | None:
    """The reference: email-validator without DNS."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def typed_phone(raw: str, region: str) -> str | None:
    """A number a person types on a page, in E.164, or None when it is not a phone number."""
    text = raw.strip()
    if not text or len(text) > _LONGEST_TYPED:
        return None
    found = phone(text, region)
    return None if found is None else found[0]


def letters(text: str) -> str:
    """Lower-case letters only, accents removed: ``"Le Gall-Prévôt"`` → ``"legallprevot"``."""
    # Compatibility forms first, then case: NFKD turns "℠" into upper-case "SM", which
    # casefold must still see.
    compatible = unicodedata.normalize("NFKD", text).casefold().translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", compatible)
    return "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c))
