"""Session dates from the RRULE in the territory's zone, and each session's cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from rdv_spie.committees import recurrence
from rdv_spie.errors import Invalid

PARIS = ZoneInfo("Europe/Paris")
TIMING = recurrence.Timing(
    start_time=time(8, 30),
    duration_minutes=120,
    deadline_days_before=3,
    deadline_time=time(14),
    freeze_days_before=3,
    dispatch_days_before=2,
    dispatch_time=time(9),
)


def test_every_other_thursday_from_the_first_date() -> None:
    days = recurrence.dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        starts_on=date(2026, 12, 10),
        first=date(2026, 12, 1),
        last=date(2027, 1, 31),
    )
    assert days == [date(2026, 12, 10), date(2026, 12, 24), date(2027, 1, 7), date(2027, 1, 21)]


def test_generation_later_keeps_the_fortnight_parity() -> None:
    days = recurrence.dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        starts_on=date(2026, 12, 10),
        first=date(2027, 3, 1),
        last=date(2027, 3, 31),
    )
    assert days == [date(2027, 3, 4), date(2027, 3, 18)]


def test_cycle_monday_deadline_and_local_times_across_dst() -> None:
    # Thursday 2 April 2027 is after the spring change; the Monday deadline before it too.
    starts = recurrence.local_instant(date(2027, 4, 1), time(8, 30), PARIS)
    c = recurrence.cycle(starts, TIMING, PARIS)
    assert starts == datetime(2027, 4, 1, 6, 30, tzinfo=UTC)
    assert c.deadline_at == datetime(2027, 3, 29, 12, 0, tzinfo=UTC)  # Monday 14:00 CEST
    assert c.freeze_at == c.deadline_at  # D-3 starts at midnight, never before the deadline
    assert c.dispatch_at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # Tuesday 09:00
    assert c.ends_at == datetime(2027, 4, 1, 8, 30, tzinfo=UTC)


def test_a_time_in_the_spring_gap_lands_after_it() -> None:
    at = recurrence.local_instant(date(2027, 3, 28), time(2, 30), PARIS)
    assert at.astimezone(PARIS).hour == 3


@pytest.mark.parametrize(
    "rule", ["FREQ=HOURLY", "FREQ=WEEKLY;BYHOUR=8", "DTSTART:20260101", "FREQ=WEEKLY;BYDAY=XX"]
)
def test_rules_that_are_refused(rule: str) -> None:
    with pytest.raises(Invalid):
        recurrence.check_rule(rule)
