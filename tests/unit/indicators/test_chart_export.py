"""The dashboard's pure parts: numbers written the French way (half up, a comma), the file
name's slug, months counted across years (up to December 9999), the default period, and the
chart's bars: inside the drawing, as tall as their share, labelled at most 12 times."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rdv_spie.indicators import chart, export
from rdv_spie.indicators.pages import default_period
from rdv_spie.indicators.queries import Facts, MonthFigures, Ratio, by_month


def test_numbers_are_written_the_french_way() -> None:
    assert export.decimal_fr(None) == ""
    assert export.decimal_fr(15.0) == "15"
    assert export.decimal_fr(24.5) == "24,5"
    assert export.percent(Ratio(2, 4)) == "50"
    assert export.percent(Ratio(4, 7)) == "57,1"
    assert export.percent(Ratio(2, 3)) == "66,7"
    assert export.percent(Ratio(1, 16)) == "6,3"  # 6.25: half up, as people round
    assert export.percent(Ratio(0, 5)) == "0"
    assert export.percent(Ratio(0, 0)) == ""


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_a_percentage_is_the_share_within_a_twentieth(part: int, whole: int) -> None:
    text = export.percent(Ratio(part, whole))
    assert abs(Decimal(text.replace(",", ".")) - Decimal(part * 100) / whole) <= Decimal("0.05")
    assert "." not in text


def test_a_file_name_is_ascii() -> None:
    assert export.slug("Jeunes 18–30 ans — Laon") == "jeunes-18-30-ans-laon"
    assert export.slug("Réunion : Saint-Denis") == "reunion-saint-denis"
    assert export.slug('=cmd|"/c"') == "cmd-c"
    assert export.slug("") == ""


def _facts(entered_on: date, *, held: bool) -> Facts:
    return Facts(
        entered_on=entered_on,
        appointment_by_on=entered_on,
        invited_fast=False,
        first_held_days=0 if held else None,
        held_within=held,
        seen=int(held),
        noshow=0,
        waiting=False,
        closed=False,
    )


def test_months_run_across_the_years_and_stop_at_the_last() -> None:
    facts = [_facts(date(2027, 1, 3), held=True), _facts(date(2027, 1, 9), held=False)]
    months = by_month(facts, date(2026, 11, 20), date(2027, 2, 1), date(2026, 12, 1))
    assert [m.month for m in months] == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert months[2].within_delay == Ratio(1, 2) and months[2].entered == 2
    assert months[0].within_delay == Ratio(0, 0)
    last = by_month([], date(9999, 12, 1), date(9999, 12, 31), date(2026, 12, 1))
    assert [m.month for m in last] == [date(9999, 12, 1)]


def test_the_default_period_is_the_last_twelve_months() -> None:
    assert default_period(date(2026, 12, 1)) == (date(2026, 1, 1), date(2026, 12, 1))
    assert default_period(date(2027, 1, 15)) == (date(2026, 2, 1), date(2027, 1, 15))
    assert default_period(date(2026, 11, 30)) == (date(2025, 12, 1), date(2026, 11, 30))


def _month(i: int, part: int, whole: int) -> MonthFigures:
    first = date(2020 + i // 12, i % 12 + 1, 1)
    return MonthFigures(month=first, entered=whole, within_delay=Ratio(part, whole), running=0)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=120))
def test_bars_stay_inside_the_drawing_and_follow_their_share(
    counts: list[tuple[int, int]],
) -> None:
    months = [_month(i, min(a, b), b) for i, (a, b) in enumerate(counts)]
    drawn = chart.layout(months)
    plot = chart.HEIGHT - chart.TOP - chart.BOTTOM
    assert len(drawn.bars) == len(months)
    assert sum(b.labelled for b in drawn.bars) <= chart.MAX_LABELLED
    assert drawn.bars[0].labelled and drawn.bars[0].with_year
    for bar in drawn.bars:
        assert bar.x >= chart.LEFT and bar.x + bar.width <= chart.WIDTH - chart.RIGHT + 0.1
        assert bar.y >= chart.TOP - 0.1 and bar.y + bar.height <= drawn.baseline + 0.1
        share = bar.month.within_delay.share
        if share is None:
            assert bar.height == 0
        else:
            assert abs(bar.height - max(chart.MIN_BAR, share * plot)) <= 0.1
    xs = [b.x for b in drawn.bars]
    assert xs == sorted(xs)
