"""What an e-mail's .ics attachment describes: one event (an appointment, a CTO session),
whatever it comes from. Values only: no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rdv_spie.territories.models import Place


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


def place_location(place: Place | None) -> str | None:
    """A place as one line for a calendar: name, address, postcode and city."""
    if place is None:
        return None
    parts = [place.name, place.address, " ".join(p for p in (place.postcode, place.city) if p)]
    return ", ".join(p for p in parts if p) or None
