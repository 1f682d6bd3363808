"""The sending window and the retry backoff: worked examples (inside, evening, night, weekend,
both daylight-saving weekends, overseas zones without DST) and property tests."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rdv_spie.notifications.policy import SendingWindow, retry_at

PARIS = ZoneInfo("Europe/Paris")
CAYENNE = ZoneInfo("America/Cayenne")  # UTC-3 all year
REUNION = ZoneInfo("Indian/Reunion")  # UTC+4 all year
MONDAY_TO_SATURDAY = 0b0111111
EVERY_DAY = 0b1111111
SPRING_2027, FALL_2026 = date(2027, 3, 28), date(2026, 10, 25)  # both Sundays, Paris
STEP = timedelta(minutes=15)


def window(
    zone: ZoneInfo = PARIS,
    *,
    start: time = time(9),
    end: time = time(19),
    weekdays: int = MONDAY_TO_SATURDAY,
) -> SendingWindow:
    return SendingWindow(start=start, end=end, weekdays=weekdays, zone=zone)


def local(zone: ZoneInfo, text: str) -> datetime:
    """An aware local wall time (first occurrence when repeated)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Worked examples


def test_inside_the_window_is_the_same_instant_in_utc() -> None:
    at = local(PARIS, "2026-12-01T10:17:42.5")  # Tuesday
    opened = window().next_open(at)
    assert opened == at and opened.tzinfo is UTC
    assert opened == utc("2026-12-01T09:17:42.5")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Saturday evening → Monday morning (Sunday is closed).
        ("2026-12-05T20:00", "2026-12-07T09:00"),
        # The end is exclusive: 19:00 sharp is already closed.
        ("2026-12-05T19:00", "2026-12-07T09:00"),
        ("2026-12-01T19:00", "2026-12-02T09:00"),
        # Night: 09:00 the same day.
        ("2026-12-02T03:00", "2026-12-02T09:00"),
        ("2026-12-02T00:00", "2026-12-02T09:00"),
        ("2026-12-02T08:59:59", "2026-12-02T09:00"),
        # Sunday all day → Monday.
        ("2026-12-06T11:00", "2026-12-07T09:00"),
        # Weekday evening → next morning.
        ("2026-12-03T22:30", "2026-12-04T09:00"),
    ],
)
def test_outside_the_window_waits_for_the_next_opening(at: str, expected: str) -> None:
    w = window()
    opened = w.next_open(local(PARIS, at))
    assert opened.tzinfo is UTC
    assert opened.astimezone(PARIS) == local(PARIS, expected)
    assert w.allows(opened)
    assert not w.allows(opened - timedelta(microseconds=1))


def test_the_start_is_inclusive() -> None:
    at = local(PARIS, "2026-12-01T09:00")
    assert window().allows(at) and window().next_open(at) == at


@pytest.mark.parametrize(
    ("at", "expected_utc", "offset_hours"),
    [
        # Spring forward, Sunday 28 March 2027: Saturday evening (UTC+1) → Monday 09:00 (UTC+2).
        ("2027-03-27T20:00", "2027-03-29T07:00", 2),
        # Fall back, Sunday 25 October 2026: Saturday evening (UTC+2) → Monday 09:00 (UTC+1).
        ("2026-10-24T20:00", "2026-10-26T08:00", 1),
    ],
)
def test_dst_weekends_open_at_nine_local_with_the_new_offset(
    at: str, expected_utc: str, offset_hours: int
) -> None:
    opened = window().next_open(local(PARIS, at))
    assert opened == utc(expected_utc)
    paris = opened.astimezone(PARIS)
    assert paris.time() == time(9) and paris.weekday() == 0
    assert paris.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("night_utc", "expected_utc", "offset_hours"),
    [
        # During the night of the change itself, windows open every day.
        ("2027-03-28T00:30", "2027-03-28T07:00", 2),  # 01:30 CET, before the jump
        ("2027-03-28T01:30", "2027-03-28T07:00", 2),  # 03:30 CEST, after it
        ("2026-10-25T00:30", "2026-10-25T08:00", 1),  # 02:30 CEST, first pass
        ("2026-10-25T01:30", "2026-10-25T08:00", 1),  # 02:30 CET, second pass
    ],
)
def test_dst_nights_open_at_nine_local_the_same_day(
    night_utc: str, expected_utc: str, offset_hours: int
) -> None:
    opened = window(weekdays=EVERY_DAY).next_open(utc(night_utc))
    assert opened == utc(expected_utc)
    paris = opened.astimezone(PARIS)
    assert paris.time() == time(9) and paris.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("zone", "at", "expected_utc"),
    [
        (CAYENNE, "2026-12-05T20:00", "2026-12-07T12:00"),  # Saturday evening, UTC-3
        (CAYENNE, "2026-12-02T06:00", "2026-12-02T12:00"),
        (REUNION, "2026-12-05T20:00", "2026-12-07T05:00"),  # Saturday evening, UTC+4
        (REUNION, "2026-12-02T06:00", "2026-12-02T05:00"),
        # No change of offset on the Paris DST weekends.
        (CAYENNE, "2027-03-27T20:00", "2027-03-29T12:00"),
        (REUNION, "2026-10-24T20:00", "2026-10-26T05:00"),
    ],
)
def test_overseas_zones_without_dst(zone: ZoneInfo, at: str, expected_utc: str) -> None:
    opened = window(zone).next_open(local(zone, at))
    assert opened == utc(expected_utc)
    assert opened.astimezone(zone).time() == time(9)


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    at = utc("2026-12-02T06:00")  # 07:00 Paris, 03:00 Cayenne, 10:00 Réunion
    assert window(REUNION).allows(at)
    assert not window(PARIS).allows(at) and not window(CAYENNE).allows(at)


def test_a_window_without_weekdays_is_refused() -> None:
    with pytest.raises(ValueError, match="weekday"):
        window(weekdays=0).next_open(utc("2026-12-02T03:00"))


# Known DST defects of next_open (windows with a boundary between 02:00 and 03:00 local).


def test_start_inside_the_spring_gap_opens_when_the_clock_jumps() -> None:
    w = window(start=time(2, 30), end=time(4), weekdays=EVERY_DAY)
    assert w.allows(utc("2027-03-28T01:00"))  # 03:00 CEST is inside [02:30, 04:00)
    assert w.next_open(utc("2027-03-28T00:00")) == utc("2027-03-28T01:00")


def test_window_inside_the_spring_gap_opens_the_next_day() -> None:
    w = window(start=time(2, 15), end=time(2, 45), weekdays=EVERY_DAY)
    opened = w.next_open(utc("2027-03-28T00:00"))
    assert w.allows(opened)


def test_window_in_the_repeated_hour_opens_again_on_the_second_pass() -> None:
    w = window(start=time(2, 30), end=time(2, 45), weekdays=EVERY_DAY)
    assert w.allows(utc("2026-10-25T01:30"))
    assert w.next_open(utc("2026-10-25T00:50")) == utc("2026-10-25T01:30")


# Property


ZONES = st.sampled_from([PARIS, CAYENNE, REUNION])
WEEKDAY_MASKS = st.integers(min_value=1, max_value=127)
START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
TRANSITIONS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
TRANSITIONS += [datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC)]
TRANSITIONS += [datetime(2028, 3, 26, 1, tzinfo=UTC), datetime(2028, 10, 29, 1, tzinfo=UTC)]

anywhere = st.integers(min_value=0, max_value=int((END - START).total_seconds()) - 1).map(
    lambda s: START + timedelta(seconds=s)
)
# Within three days of a Paris change of offset, where mistakes would hide.
near_dst = st.tuples(
    st.sampled_from(TRANSITIONS), st.integers(min_value=-3 * 86400, max_value=3 * 86400)
).map(lambda p: p[0] + timedelta(seconds=p[1]))
INSTANTS = st.one_of(anywhere, near_dst)


def _outside_the_dst_hour(t: time) -> bool:
    # Boundaries strictly between 02:00 and 03:00 hit the known defects above.
    return not time(2) < t < time(3)


TIMES = st.times().map(lambda t: t.replace(fold=0)).filter(_outside_the_dst_hour)


@st.composite
def windows(draw: st.DrawFn) -> SendingWindow:
    a, b = draw(TIMES), draw(TIMES)
    assume(a != b)
    start, end = min(a, b), max(a, b)
    return SendingWindow(start=start, end=end, weekdays=draw(WEEKDAY_MASKS), zone=draw(ZONES))


@settings(max_examples=300, deadline=None)
@given(w=windows(), at=INSTANTS)
def test_next_open_is_the_first_allowed_instant_from_at(w: SendingWindow, at: datetime) -> None:
    opened = w.next_open(at)
    assert opened >= at
    assert w.allows(opened)
    assert opened == at or not w.allows(at)
    probe = at
    while probe < opened:
        assert not w.allows(probe), (probe, opened)
        probe += STEP


@settings(max_examples=100, deadline=None)
@given(at=INSTANTS, zone=ZONES)
def test_the_default_window_always_opens_at_nine_or_stays(at: datetime, zone: ZoneInfo) -> None:
    w = window(zone)
    opened = w.next_open(at)
    if opened != at:
        there = opened.astimezone(zone)
        assert there.time() == time(9) and there.weekday() != 6
        assert opened - at < timedelta(days=2, hours=15)


# Retry backoff


NOW = utc("2026-12-01T08:00")


@pytest.mark.parametrize(
    ("attempts", "base_seconds"),
    [(0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1920), (8, 3600)],
)
def test_retry_delay_doubles_within_twenty_percent(attempts: int, base_seconds: int) -> None:
    rng = random.Random(attempts)
    for _ in range(50):
        delay = (retry_at(NOW, attempts, rng) - NOW).total_seconds()
        assert 0.8 * base_seconds <= delay <= 1.2 * base_seconds


@given(
    attempts=st.integers(min_value=1, max_value=10_000), seed=st.integers(min_value=0, max_value=9)
)
def test_retry_delay_is_capped_at_one_hour_plus_jitter(attempts: int, seed: int) -> None:
    delay = retry_at(NOW, attempts, random.Random(seed)) - NOW
    assert timedelta(seconds=24) <= delay <= timedelta(hours=1.2)
    if attempts >= 8:
        assert timedelta(minutes=48) <= delay


@given(seed=st.integers())
def test_retry_delay_grows_with_attempts_whatever_the_jitter(seed: int) -> None:
    rng = random.Random(seed)
    delays = [retry_at(NOW, attempts, rng) - NOW for attempts in range(1, 8)]
    # Doubling beats the widest jitter (0.8 x 2 > 1.2) until the cap.
    assert delays == sorted(delays) and len(set(delays)) == len(delays)


def test_a_seeded_random_makes_retries_deterministic() -> None:
    first = [retry_at(NOW, a, random.Random(2026)) for a in range(1, 12)]
    second = [retry_at(NOW, a, random.Random(2026)) for a in range(1, 12)]
    assert first == second
    one_rng, other_rng = random.Random(1), random.Random(1)
    assert [retry_at(NOW, 3, one_rng) for _ in range(5)] == [
        retry_at(NOW, 3, other_rng) for _ in range(5)
    ]
    assert retry_at(NOW, 3, random.Random(1)) != retry_at(NOW, 3, random.Random(2))


def test_retry_without_a_random_source_still_stays_in_bounds() -> None:
    delay = retry_at(NOW, 2) - NOW
    assert timedelta(seconds=48) <= delay <= timedelta(seconds=72)
