"""The dashboard's figures as the page and the CSV both show them: each summary figure with
its value written the French way ("57,1", "24,5"), the counts behind a share, and the CSV file
(UTF-8 with a byte-order mark so Excel reads the accents, ``;`` between cells). Pure: the words
(labels, units, month names, the file's name) come from the template through ``Words``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rdv_spie.indicators.queries import Dashboard, Ratio

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Figure:
    """One summary figure: ``key`` names its label and definition in the template, ``unit``
    how its value reads (percent, people, days, journeys)."""

    key: str
    unit: str
    value: str  # empty when there is nothing to measure (no one entered)
    part: int | None = None  # a share's counts
    whole: int | None = None


def decimal_fr(value: float | Decimal | None) -> str:
    """``57,1``, ``24,5``, ``50``: one decimal at most (half up), a comma, none when whole."""
    if value is None:
        return ""
    rounded = Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return str(int(rounded))
    return str(rounded).replace(".", ",")


def percent(ratio: Ratio) -> str:
    """The share as a percentage (``57,1``), empty when there is no whole."""
    if not ratio.whole:
        return ""
    return decimal_fr(Decimal(ratio.part * 100) / Decimal(ratio.whole))


def summary(d: Dashboard) -> list[Figure]:
    """The summary figures, in the page's order."""

    def share(key: str, ratio: Ratio) -> Figure:
        return Figure(key, "percent", percent(ratio), ratio.part, ratio.whole)

    return [
        Figure("entered", "people", str(d.entered)),
        share("invited_within_3_days", d.invited_within_3_days),
        share("first_appointment_within_delay", d.first_appointment_within_delay),
        Figure(
            "median_days",
            "days",
            decimal_fr(d.median_days_to_first_appointment),
            d.first_appointments_held,
        ),
        share("noshow_rate", d.noshow_rate),
        Figure("waiting_for_slots", "people", str(d.waiting_for_slots_now)),
        Figure("closed", "journeys", str(d.closed)),
    ]


Words = Callable[[str], str]  # a key → its French words (the template's csv_word macro)
MonthName = Callable[[date], str]  # "janv. 2026"


def _cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(
    d: Dashboard, *, territory: str, cohort: str | None, words: Words, month_name: MonthName
) -> str:
    """The CSV: where and when, the summary figures, then one row per month of entry."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([words("territory"), _cell(territory)])
    writer.writerow([words("cohort"), _cell(cohort) if cohort else words("all_cohorts")])
    writer.writerow([words("from"), f"{d.entered_from:%d/%m/%Y}"])
    writer.writerow([words("to"), f"{d.entered_to:%d/%m/%Y}"])
    writer.writerow([])
    writer.writerow([words(k) for k in ("figure", "value", "unit", "part", "whole")])
    for f in summary(d):
        writer.writerow(
            [words(f.key), f.value, words(f"unit_{f.unit}"), _cell(f.part), _cell(f.whole)]
        )
    writer.writerow([])
    writer.writerow(
        [words(k) for k in ("month", "month_entered", "month_within", "month_share", "running")]
    )
    for m in d.months:
        writer.writerow(
            [
                month_name(m.month),
                m.entered,
                m.within_delay.part,
                percent(m.within_delay),
                m.running,
            ]
        )
    return BOM + out.getvalue()


def slug(text: str) -> str:
    """A name for a file: ASCII letters and digits joined by dashes (``jeunes-18-30-ans``)."""
    # Accents dropped (é → e); any other character, a dash "–" included, separates words.
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "-".join(re.findall(r"[a-z0-9]+", bare.lower()))[:60].strip("-")
