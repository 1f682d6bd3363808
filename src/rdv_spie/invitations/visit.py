"""What every public booking page needs about the visitor's journey: who invites, for what,
until when, the current appointment, and the slots inside the delay.

Reads (and, for a booking, extends the journey's links); never renders, never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import raiseload

from rdv_spie import localtime
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.invitations.models import Invitation
from rdv_spie.localtime import end_of_local_day, local_day
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling import search
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from rdv_spie.scheduling.slots import Slot
from rdv_spie.territories.models import Organisation, Place, Territory
from rdv_spie.web.auth import Visitor

_NO_PLACES = [raiseload(AppointmentType.allowed_places)]
# An appointment in these statuses is the journey's: no second one is booked online.
_KEPT = (AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NOSHOW)


@dataclass(slots=True)
class Visit:
    """The journey behind a person's session and what the pages say about it."""

    journey: Journey
    cohort: Cohort
    territory: Territory
    zone: ZoneInfo
    organisation: Organisation | None
    type_: AppointmentType | None

    @property
    def inviter(self) -> str:
        """Who invites: the cohort's structure, else the territory."""
        return self.organisation.name if self.organisation else self.territory.name

    @property
    def phone(self) -> str | None:
        """The number to call: the structure's, else the territory's."""
        return (self.organisation.phone if self.organisation else None) or self.territory.phone

    @property
    def locked(self) -> bool:
        """Too many wrong answers to the identity check."""
        return self.journey.identity_locked_at is not None

    @property
    def deadline(self) -> datetime:
        """The end of the journey's last day for a first appointment, in UTC."""
        return end_of_local_day(self.journey.appointment_by_on, self.zone)

    def context(self) -> dict[str, object]:
        """What every public page shows: who invites, for what, how to call."""
        return {
            "inviter": self.inviter,
            "phone": self.phone,
            "type_name": self.type_.name if self.type_ else "Premier rendez-vous",
        }


async def load(uow: UnitOfWork, journey_id: uuid.UUID) -> Visit:
    """The visit of an open journey, or NotFound (shown as the page of an unknown link)."""
    journey = await uow.session.get(Journey, journey_id)
    if journey is None or journey.closed_at is not None:
        raise NotFound("journey closed", code="link_invalid")
    cohort = await uow.session.get(Cohort, journey.cohort_id)
    territory = await uow.session.get(Territory, journey.territory_id)
    assert cohort is not None and territory is not None
    organisation = (
        await uow.session.get(Organisation, cohort.organisation_id)
        if cohort.organisation_id
        else None
    )
    type_ = (
        await uow.session.get(AppointmentType, cohort.appointment_type_id, options=_NO_PLACES)
        if cohort.appointment_type_id
        else None
    )
    return Visit(
        journey, cohort, territory, localtime.zone(territory.timezone), organisation, type_
    )


async def for_visitor(uow: UnitOfWork, visitor: Visitor) -> Visit:
    """The visit behind a live person session whose invitation still works."""
    invitation_id = visitor.session.invitation_id
    invitation = await uow.session.get(Invitation, invitation_id) if invitation_id else None
    now = uow.clock.now()
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= now:
        raise NotFound("invitation no longer valid", code="link_invalid")
    return await load(uow, visitor.journey_id)


async def person_of(uow: UnitOfWork, visit: Visit) -> Person:
    """The invited person (read only once the identity check is passed, or to check it)."""
    person = await uow.session.get(Person, visit.journey.person_id)
    assert person is not None
    return person


async def appointment_type(uow: UnitOfWork, type_id: uuid.UUID) -> AppointmentType:
    """An appointment type without its allowed places."""
    found = await uow.session.get(AppointmentType, type_id, options=_NO_PLACES)
    if found is None:
        raise NotFound("appointment type not found", code="link_invalid")
    return found


async def current_appointment(uow: UnitOfWork, visit: Visit) -> Appointment | None:
    """The journey's appointment (booked, or already held), the latest first."""
    return await uow.session.scalar(
        select(Appointment)
        .where(Appointment.journey_id == visit.journey.id, Appointment.status.in_(_KEPT))
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


async def places(uow: UnitOfWork, ids: set[uuid.UUID]) -> dict[uuid.UUID, Place]:
    """Places by id."""
    if not ids:
        return {}
    rows = await uow.session.scalars(select(Place).where(Place.id.in_(ids)))
    return {p.id: p for p in rows}


async def slots_until(
    uow: UnitOfWork,
    visit: Visit,
    type_id: uuid.UUID,
    end: datetime,
    *,
    grid_minutes: int,
    cache: SlotCache | None,
) -> list[Slot]:
    """Bookable slots of a type from now to ``end``, in order of time then place.

    Windows start at local midnight today, so the slot cache serves every request of the day.
    """
    now = uow.clock.now()
    start = end_of_local_day(local_day(now, visit.zone) - timedelta(days=1), visit.zone)
    found: list[Slot] = []
    windows = search.slots_by_window(
        uow=uow,
        now=now,
        type_id=type_id,
        start=start,
        end=end,
        grid_minutes=grid_minutes,
        cache=cache,
    )
    async for chunk in windows:
        found.extend(chunk)
    return sorted(found, key=lambda s: (s.starts_at, str(s.place_id)))
