"""A phone number a person types on the public pages: checked with phonenumbers in the
territory's region, kept in E.164 (pure).

A national number that is not valid in the territory's region is tried in the other regions
of the French numbering plan (a Réunion mobile typed in Aisne), as the intake does.
"""

from __future__ import annotations

import phonenumbers

# One region per calling code of the French plan (metropolitan, Guadeloupe, Guyane,
# Martinique, La Réunion and Mayotte).
_FRENCH_PLAN = ("FR", "GP", "GF", "MQ", "RE", "YT")
_LONGEST = 40  # characters typed: longer is not a phone number


def normalise(raw: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number."""
    text = raw.strip()
    if not text or len(text) > _LONGEST:
        return None
    regions = [region]
    if region in _FRENCH_PLAN and not text.startswith(("+", "00")):
        regions += [r for r in _FRENCH_PLAN if r != region]
    for candidate in regions:
        try:
            number = phonenumbers.parse(text, candidate)
        except phonenumbers.NumberParseException:
            return None
        if not number.extension and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
