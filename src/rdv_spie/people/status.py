"""A journey's status, derived from facts and never set by hand: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class JourneyStatus(StrEnum):
    """Where a person stands on the way to their first appointment."""

    TO_INVITE = "to_invite"
    INVITED = "invited"
    BOOKED = "booked"
    SEEN = "seen"
    NOSHOW = "noshow"
    INVITATION_EXPIRED = "invitation_expired"
    LATE = "late"  # the first-appointment deadline passed with nothing booked
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class AppointmentFact:
    """What status derivation needs of one appointment of the journey."""

    status: str  # AppointmentStatus value
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class JourneyFacts:
    """Everything the status depends on."""

    appointment_by_on: date
    closed: bool
    invitation_expiries: tuple[datetime, ...]  # one per invitation sent or planned
    appointments: tuple[AppointmentFact, ...]


def derive(facts: JourneyFacts, *, now: datetime, today: date) -> JourneyStatus:
    """The status at ``now`` (``today`` is the territory's local date of ``now``)."""
    if facts.closed:
        return JourneyStatus.CLOSED
    held = {a.status for a in facts.appointments}
    # The promise is kept once an appointment took place, whatever came after it.
    if "seen" in held:
        return JourneyStatus.SEEN
    if "booked" in held:
        return JourneyStatus.BOOKED
    if "noshow" in held:
        return JourneyStatus.NOSHOW
    if today > facts.appointment_by_on:
        return JourneyStatus.LATE
    if facts.invitation_expiries:
        if all(expiry <= now for expiry in facts.invitation_expiries):
            return JourneyStatus.INVITATION_EXPIRED
        return JourneyStatus.INVITED
    return JourneyStatus.TO_INVITE


def first_held(appointments: Iterable[AppointmentFact]) -> AppointmentFact | None:
    """The first appointment that took place (status seen), if any."""
    held = [a for a in appointments if a.status == "seen"]
    return min(held, key=lambda a: a.starts_at) if held else None
