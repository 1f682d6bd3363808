"""What an e-mail's .ics attachment describes: one event (an appointment, a CTO session),
whatever it comes from. Values only: no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """The event an e-mail carries as an .ics attachment (an appointment, a CTO session)."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    changed_at: datetime  # DTSTAMP: the same file for the same state
    summary: str
    location: str | None
    filename: str
