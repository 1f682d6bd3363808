"""What an .ics file describes: one event (an appointment, a CTO session), its UID, and an
appointment as that event. The UIDs are written here only, so an e-mailed file, the file
the public page offers and the feeds name one event alike and a calendar app updates it
instead of adding a second one. Values only: no database, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from rdv_spie.scheduling.models import Appointment


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """The event an .ics file carries (an appointment, a CTO session)."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    changed_at: datetime  # DTSTAMP: the same file for the same state
    summary: str
    location: str | None
    filename: str


def appointment_uid(appointment_id: uuid.UUID) -> str:
    """The UID of an appointment: ``appointment-<id>@rdv-spie``."""
    return f"appointment-{appointment_id}@rdv-spie"


def session_uid(session_id: uuid.UUID) -> str:
    """The UID of a CTO session: ``cto-session-<id>@rdv-spie``."""
    return f"cto-session-{session_id}@rdv-spie"


def appointment_event(
    appointment: Appointment, *, summary: str, location: str | None
) -> CalendarEvent:
    """An appointment as an event: its UID, its SEQUENCE (it grows on every move or status
    change) and its last change as DTSTAMP, so the same state always gives the same file."""
    return CalendarEvent(
        uid=appointment_uid(appointment.id),
        sequence=appointment.sequence,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        changed_at=appointment.updated_at,
        summary=summary,
        location=location,
        filename="rendez-vous.ics",
    )
