"""When messages may leave and when a failed one is tried again: pure functions, no I/O.

Local time only inside the sending window, with the territory's zone; everything in and out
is a UTC instant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIN_GAP_SAME_CHANNEL = timedelta(hours=24)
APPOINTMENT_REMINDER_BEFORE = timedelta(hours=48)
MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """Local hours and weekdays when people may be written to (never at night)."""

    start: time
    end: time
    weekdays: int  # bit i = date.weekday() == i allowed
    zone: ZoneInfo

    def allows(self, at: datetime) -> bool:
        """True when ``at`` falls inside the window."""
        local = at.astimezone(self.zone)
        return bool(self.weekdays & (1 << local.weekday())) and (
            self.start <= local.time() < self.end
        )

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when inside the window, else the next opening (UTC)."""
        if self.allows(at):
            return at.astimezone(UTC)
        day = at.astimezone(self.zone).date()
        for offset in range(8):
            candidate_day = day + timedelta(days=offset)
            if not self.weekdays & (1 << candidate_day.weekday()):
                continue
            for opening in _openings(candidate_day, self.start, self.zone):
                if opening > at and self.allows(opening):
                    return opening
        raise ValueError("a sending window needs at least one weekday")


def _openings(day: date, start: time, zone: ZoneInfo) -> list[datetime]:
    """The instants (UTC) when ``day`` reaches the local time ``start``: once on most days,
    twice when the clocks go back over it, and at the jump when they go forward over it."""
    wall = datetime.combine(day, start)
    first = datetime.combine(day, start, tzinfo=zone)
    both = sorted({first.astimezone(UTC), first.replace(fold=1).astimezone(UTC)})
    real = [i for i in both if i.astimezone(zone).replace(tzinfo=None) == wall]
    if real:
        return real
    # ``start`` does not exist that day: the window opens when the clocks jump past it.
    low, high = int(both[0].timestamp()), int(both[-1].timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        local = datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None)
        if local >= wall:
            high = middle
        else:
            low = middle
    return [datetime.fromtimestamp(high, UTC)]


def retry_at(now: datetime, attempts: int, rng: random.Random | None = None) -> datetime:
    """When to try again after ``attempts`` failed tries: exponential backoff with ±20 %
    jitter (30 s, 1 min, 2 min … capped at 1 h), so a provider outage does not get a
    thundering herd when it comes back."""
    base = min(30 * 2 ** max(attempts - 1, 0), 3600)
    jitter = (rng or random.SystemRandom()).uniform(0.8, 1.2)
    return now + timedelta(seconds=base * jitter)
