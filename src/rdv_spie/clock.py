"""The one source of "now": injected everywhere so tests and the demo can move through days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant, tz-aware, in UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, optionally shifted (demo: see tomorrow's reminders today)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """Current UTC instant plus the configured offset."""
        return datetime.now(UTC) + self.offset


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a tz-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """The frozen instant."""
        return self._at

    def advance(self, delta: timedelta) -> None:
        """Move forward (or back) by ``delta``."""
        self._at += delta

    def set(self, at: datetime) -> None:
        """Jump to ``at``."""
        self._at = at.astimezone(UTC)
