"""The month-by-month chart of delay compliance, laid out for an SVG the template draws: one
bar per month (its height the share of people entered that month whose first appointment was
held by the deadline), the 0–100 % gridlines, which months carry a label. Pure: no I/O, no
words (the template writes them), numbers only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rdv_spie.indicators.queries import MonthFigures

# The drawing's own units (viewBox); the page scales it to its width.
WIDTH = 640
HEIGHT = 320
LEFT = 64  # room for "100 %"
RIGHT = 8
TOP = 28  # room for the value above a full bar
BOTTOM = 64  # room for the month and the year under the bars
MAX_LABELLED = 12  # more months than this: every n-th month is labelled
MIN_BAR = 2.0  # a 0 % bar stays visible (and its tooltip reachable)


@dataclass(frozen=True, slots=True)
class Bar:
    """One month: its rectangle, where its label sits, and what is written."""

    month: MonthFigures
    x: float
    y: float
    width: float
    height: float
    centre: float
    labelled: bool  # the month's name under the bar
    with_year: bool  # the year under the month's name (January, or the first bar)


@dataclass(frozen=True, slots=True)
class Tick:
    """A horizontal gridline at ``percent``."""

    percent: int
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    values_shown: bool  # the percentage above each bar (when they fit)


def layout(months: list[MonthFigures]) -> Chart:
    """Bars, gridlines and labels for these months, left to right."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)
    slot = plot_width / max(len(months), 1)
    step = max(1, math.ceil(len(months) / MAX_LABELLED))
    bars = []
    for i, month in enumerate(months):
        share = month.within_delay.share
        height = 0.0
        if share is not None:
            height = max(MIN_BAR, round(share * plot_height, 1))
        width = round(slot * 0.7, 1)
        x = round(LEFT + i * slot + (slot - width) / 2, 1)
        labelled = i % step == 0
        bars.append(
            Bar(
                month=month,
                x=x,
                y=round(baseline - height, 1),
                width=width,
                height=height,
                centre=round(LEFT + i * slot + slot / 2, 1),
                labelled=labelled,
                with_year=labelled and (i == 0 or month.month.month <= step),
            )
        )
    ticks = [Tick(p, round(baseline - p / 100 * plot_height, 1)) for p in (0, 25, 50, 75, 100)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=float(LEFT),
        right=float(WIDTH - RIGHT),
        baseline=baseline,
        bars=bars,
        ticks=ticks,
        values_shown=len(months) <= MAX_LABELLED,
    )
