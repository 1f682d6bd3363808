"""Page-only reads for the back-office agenda: one week of appointments of some agents, with
the names a referent needs on screen (type, place, person, attending agents).

Read-only; callers pass agent ids already limited to the actor's colleagues. An appointment
held for another organisation than the viewer's shows as busy only: its time and who attends,
never its type, place or person.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from rdv_spie.agents.models import Agent, Membership, Role
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
    busy: bool = False  # another organisation's appointment: time and attendees only


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local Monday 00:00 to the next Monday 00:00, as aware instants."""
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    return start, end


async def week(
    uow: UnitOfWork,
    *,
    viewer_id: uuid.UUID,
    agent_ids: Collection[uuid.UUID],
    organisation_ids: Collection[uuid.UUID],
    monday: date,
    zone: ZoneInfo,
) -> dict[date, list[Row]]:
    """The week's appointments that these agents attend or that are held for these
    organisations, by local day (Monday first). The viewer sees in full those they attend and
    those held for ``organisation_ids``; the others are busy rows."""
    start, end = week_bounds(monday, zone)
    attended = select(AppointmentAgent.appointment_id).where(
        AppointmentAgent.agent_id.in_(agent_ids),
        AppointmentAgent.starts_at >= start,
        AppointmentAgent.starts_at < end,
    )
    held = select(Appointment.id).where(
        Appointment.acting_organisation_id.in_(organisation_ids),
        Appointment.starts_at >= start,
        Appointment.starts_at < end,
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
            .where(or_(Appointment.id.in_(attended), Appointment.id.in_(held)))
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
        status = AppointmentStatus(appointment.status)
        started = appointment.starts_at <= now
        local = appointment.starts_at.astimezone(zone)
        agents = tuple(names.get(a.agent_id, "") for a in appointment.attendees)
        shown = appointment.acting_organisation_id in organisation_ids or any(
            a.agent_id == viewer_id for a in appointment.attendees
        )
        if not shown:
            if status.holds_time:
                days[local.date()].append(_busy(appointment, local, zone, agents))
            continue
        named = first is not None and purged_at is None  # an erased person shows no name
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
                agents=agents,
                started=started,
                settle=tuple(
                    s.value for s in SETTLE if started and status in _SETTLEABLE and s != status
                ),
            )
        )
    return {monday + timedelta(days=i): days.get(monday + timedelta(days=i), []) for i in range(7)}


def _busy(
    appointment: Appointment, local: datetime, zone: ZoneInfo, agents: tuple[str, ...]
) -> Row:
    """Another organisation's appointment: when, and which of the team attends."""
    return Row(
        id=appointment.id,
        starts=local,
        ends=appointment.ends_at.astimezone(zone),
        type_name="",
        place_name="",
        person_id=None,
        person_name=None,
        person_erased=False,
        status=AppointmentStatus(appointment.status),
        agents=agents,
        started=False,
        settle=(),
        busy=True,
    )


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


@dataclass(frozen=True, slots=True)
class Receiver:
    """An agent who may receive the person, and for which structure."""

    agent_id: uuid.UUID
    name: str
    structure: str


async def receivers(
    uow: UnitOfWork,
    agent_ids: Collection[uuid.UUID],
    organisation_ids: Collection[uuid.UUID] | None,
    territory_id: uuid.UUID,
) -> list[Receiver]:
    """These agents with the structure they receive for (one of ``organisation_ids``, else
    any of the territory's), by name."""
    if not agent_ids:
        return []
    query = (
        select(Agent.id, Agent.first_name, Agent.last_name, Organisation.name)
        .join(Membership, Membership.agent_id == Agent.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            Agent.id.in_(agent_ids),
            Organisation.territory_id == territory_id,
            Membership.role != Role.PARTNER,
        )
        .order_by(Agent.last_name, Agent.first_name, Organisation.name)
    )
    if organisation_ids is not None:
        query = query.where(Organisation.id.in_(organisation_ids))
    seen: dict[uuid.UUID, Receiver] = {}
    for agent_id, first, last, structure in await uow.session.execute(query):
        seen.setdefault(agent_id, Receiver(agent_id, f"{first} {last}", structure))
    return list(seen.values())


async def held_with(uow: UnitOfWork, appointment_id: uuid.UUID) -> tuple[list[str], str]:
    """Who attends an appointment and the structure it is held for (for the notice after a
    booking)."""
    appointment = await uow.session.get(Appointment, appointment_id)
    if appointment is None:
        return [], ""
    structure = await uow.session.scalar(
        select(Organisation.name).where(Organisation.id == appointment.acting_organisation_id)
    )
    names = [
        f"{first} {last}"
        for first, last in await uow.session.execute(
            select(Agent.first_name, Agent.last_name)
            .join(AppointmentAgent, AppointmentAgent.agent_id == Agent.id)
            .where(AppointmentAgent.appointment_id == appointment_id)
            .order_by(AppointmentAgent.role)
        )
    ]
    return names, structure or ""


async def structures(
    uow: UnitOfWork, organisation_ids: Collection[uuid.UUID], territory_id: uuid.UUID
) -> list[Organisation]:
    """These organisations on a territory, by name (the structures an agent works for)."""
    return list(
        await uow.session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(organisation_ids), Organisation.territory_id == territory_id)
            .order_by(Organisation.name)
        )
    )
