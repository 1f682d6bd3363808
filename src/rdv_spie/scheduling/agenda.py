"""Page-only reads for the back-office agenda: one week of appointments of some agents, with
the names a referent needs on screen (type, place, person, attending agents).

Read-only; callers pass agent ids already limited to the actor's colleagues.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.agents.models import Agent
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import (
    Appointment,
    AppointmentAgent,
    AppointmentStatus,
    AppointmentType,
)
from rdv_spie.territories.models import Organisation, Place

# What the referent may record once the appointment has started (office_agenda.html words
# them, and every status).
SETTLE = (AppointmentStatus.SEEN, AppointmentStatus.EXCUSED, AppointmentStatus.NOSHOW)
_SETTLEABLE = frozenset(
    {
        AppointmentStatus.BOOKED,
        AppointmentStatus.SEEN,
        AppointmentStatus.EXCUSED,
        AppointmentStatus.NOSHOW,
    }
)


@dataclass(frozen=True, slots=True)
class Row:
    """One appointment as the agenda shows it."""

    id: uuid.UUID
    starts: datetime  # local
    ends: datetime  # local
    type_name: str
    place_name: str
    person_id: uuid.UUID | None
    person_name: str | None
    person_erased: bool  # the retention purge erased the person's data
    status: AppointmentStatus
    agents: tuple[str, ...]
    started: bool
    settle: tuple[str, ...]  # the status values the referent may record


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local Monday 00:00 to the next Monday 00:00, as aware instants."""
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    return start, end


async def week(
    uow: UnitOfWork,
    *,
    agent_ids: Collection[uuid.UUID],
    monday: date,
    zone: ZoneInfo,
) -> dict[date, list[Row]]:
    """The week's appointments of these agents, by local day (Monday first)."""
    start, end = week_bounds(monday, zone)
    ids = select(AppointmentAgent.appointment_id).where(
        AppointmentAgent.agent_id.in_(agent_ids),
        AppointmentAgent.starts_at >= start,
        AppointmentAgent.starts_at < end,
    )
    rows = (
        await uow.session.execute(
            select(
                Appointment,
                AppointmentType.name,
                Place.name,
                Person.first_name,
                Person.last_name,
                Person.purged_at,
            )
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .join(Place, Place.id == Appointment.place_id)
            .outerjoin(Person, Person.id == Appointment.person_id)
            .where(Appointment.id.in_(ids))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    ).all()
    attending = {a.agent_id for row in rows for a in row[0].attendees}
    names = {
        agent.id: f"{agent.first_name} {agent.last_name}"
        for agent in await uow.session.scalars(select(Agent).where(Agent.id.in_(attending)))
    }
    now = uow.clock.now()
    days: dict[date, list[Row]] = defaultdict(list)
    for appointment, type_name, place_name, first, last, purged_at in rows:
        named = first is not None and purged_at is None  # an erased person shows no name
        status = AppointmentStatus(appointment.status)
        started = appointment.starts_at <= now
        local = appointment.starts_at.astimezone(zone)
        days[local.date()].append(
            Row(
                id=appointment.id,
                starts=local,
                ends=appointment.ends_at.astimezone(zone),
                type_name=type_name,
                place_name=place_name,
                person_id=appointment.person_id if named else None,
                person_name=f"{first} {last}" if named else None,
                person_erased=purged_at is not None,
                status=status,
                agents=tuple(names.get(a.agent_id, "") for a in appointment.attendees),
                started=started,
                settle=tuple(
                    s.value for s in SETTLE if started and status in _SETTLEABLE and s != status
                ),
            )
        )
    return {monday + timedelta(days=i): days.get(monday + timedelta(days=i), []) for i in range(7)}


async def places_of(uow: UnitOfWork, territory_id: uuid.UUID) -> list[Place]:
    """Active places of a territory, by name."""
    return list(
        await uow.session.scalars(
            select(Place)
            .join(Organisation, Organisation.id == Place.organisation_id)
            .where(Organisation.territory_id == territory_id, Place.active)
            .order_by(Place.name)
        )
    )
