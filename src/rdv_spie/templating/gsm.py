"""GSM 03.38 (GSM-7): the alphabet an SMS can carry at 160 characters a segment.

Owns the character table, the transliteration of French text (and of anything else) into it,
and the septet and segment counts. Pure: no I/O, no settings, no knowledge of templates or
transports. Must never let a character outside the table through ``to_gsm7``, nor change text
that is already GSM-7: one stray "ê" or "’" would switch the whole SMS to UCS-2 and cut each
segment from 160 characters to 70.
"""

from __future__ import annotations

import unicodedata

# 3GPP TS 23.038 §6.2.1, the default alphabet, in code order (0x00-0x7F); 0x1B is the escape
# to the extension table, not a character. 0x09 is the capital Ç: a lowercase ç is not in it.
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# 3GPP TS 23.038 §6.2.1.1, the extension table: each one costs the escape plus itself.
EXTENSION = frozenset("\f^{}\\[~]|€")
BASIC = frozenset(_BASIC) - {"\x1b"}
ALPHABET = BASIC | EXTENSION

SEGMENT_SEPTETS = 160
# A concatenated message spends 7 septets of each segment on the user data header.
MULTIPART_SEPTETS = 153

# What Unicode decomposition (NFKD) does not bring back into the table by itself. Every value
# is GSM-7 (checked by the tests).
_REPLACEMENTS: dict[str, str] = {
    # quotes and apostrophes
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": '"',
    "\u203a": '"',
    # dashes, bullets, dots
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2022": "-",
    "\u00b7": ".",
    "\u2026": "...",
    # letters without a decomposition
    "\u0153": "oe",
    "\u0152": "OE",
    "\u0111": "d",
    "\u0110": "D",
    "\u0142": "l",
    "\u0141": "L",
    "\u0131": "i",
    "\u00f0": "d",
    "\u00d0": "D",
    "\u00fe": "th",
    "\u00de": "Th",
    # signs
    "\u00b0": "o",
    "\u00d7": "x",
    "\u00f7": "/",
    "\u2044": "/",
    "\u00a2": "c",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    "\u2122": "TM",
    "\u00b6": "",
    # whitespace and invisible characters
    "\t": " ",
    "\v": " ",
    "\u0085": "\n",
    "\u2028": "\n",
    "\u2029": "\n",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
}


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM-7 alphabet or its extension."""
    return ALPHABET.issuperset(text)  # in C: this runs several times on every SMS


def to_gsm7(text: str) -> str:
    """``text`` with every character outside GSM-7 replaced by its nearest GSM-7 form or removed.

    Accents missing from the table lose their accent ("ê" → "e", "ç" → "c"), typographic quotes,
    dashes and spaces become their plain forms, "œ" becomes "oe"; emoji, symbols and letters of
    other scripts without a Latin decomposition are dropped. GSM-7 text comes back unchanged.
    """
    if is_gsm7(text):
        return text
    return "".join(_char_to_gsm7(char) for char in text)


def septets(text: str) -> int:
    """Septets ``text`` takes in an SMS: 1 a character, 2 for the extension table (€, [, ]…)."""
    _require_gsm7(text)
    return len(text) + sum(map(EXTENSION.__contains__, text))


def segments(text: str) -> int:
    """Number of SMS segments ``text`` needs: 1 up to 160 septets, else 153-septet parts.

    An extension character is never split from its escape, so a part may hold 152 septets.
    An empty text still takes one segment.
    """
    if septets(text) <= SEGMENT_SEPTETS:
        return 1
    count, used = 1, 0
    for char in text:
        width = 2 if char in EXTENSION else 1
        if used + width > MULTIPART_SEPTETS:
            count, used = count + 1, 0
        used += width
    return count


def _require_gsm7(text: str) -> None:
    if not is_gsm7(text):
        bad = sorted({char for char in text if char not in ALPHABET})
        raise ValueError(f"not GSM-7 (pass it through to_gsm7 first): {bad!r}")


def _char_to_gsm7(char: str) -> str:
    if char in ALPHABET:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        # Combining accents fall out here: they are not in the table, nor in _REPLACEMENTS.
        return "".join(_decomposed_to_gsm7(part) for part in decomposed)
    if unicodedata.category(char) == "Zs":
        return " "
    return ""


def _decomposed_to_gsm7(char: str) -> str:
    if char in ALPHABET:
        return char
    replacement = _REPLACEMENTS.get(char)
    if replacement is not None:
        return replacement
    if unicodedata.category(char) == "Zs":
        return " "
    return ""
