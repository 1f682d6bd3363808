"""Page-only reads of journeys for the back office: which journeys an agent may see, the open
ones to book for, and the people to follow (deadline near, nothing booked).

An agent follows a journey when its cohort belongs to one of their organisations (not as a
partner), when they are its referent, or — for a cohort of no organisation — when its referent
works in one of their organisations; anything else is the same NotFound as an unknown id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Membership, Role
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.territories.models import Organisation

MAX_ROWS = 200
_HOLDING = (AppointmentStatus.BOOKED.value, AppointmentStatus.SEEN.value)


@dataclass(frozen=True, slots=True)
class Followed:
    """One journey as the back office lists it."""

    journey: Journey
    person: Person
    cohort: Cohort
    mine: bool

    @property
    def locked(self) -> bool:
        """Whether the identity check of the person's link is locked."""
        return self.journey.identity_locked_at is not None


async def _scope(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    staff = actor.staff_organisation_ids
    colleagues = select(Membership.agent_id).where(
        Membership.organisation_id.in_(staff), Membership.role != Role.PARTNER
    )
    return and_(
        Journey.territory_id.in_(actor.territory_ids),
        Person.purged_at.is_(None),
        or_(
            Cohort.organisation_id.in_(staff),
            Journey.referent_id == actor.agent_id,
            and_(Cohort.organisation_id.is_(None), Journey.referent_id.in_(colleagues)),
        ),
    )


async def person_followed(uow: UnitOfWork, actor: Actor, person_id: uuid.UUID) -> bool:
    """Whether one of the person's journeys is followed by the agent, or one of their
    appointments is held by one of the agent's organisations."""
    journey = await uow.session.scalar(
        select(Journey.id)
        .join(Person, Person.id == Journey.person_id)
        .join(Cohort, Cohort.id == Journey.cohort_id)
        .where(Journey.person_id == person_id, await _scope(uow, actor))
        .limit(1)
    )
    if journey is not None:
        return True
    held = await uow.session.scalar(
        select(Appointment.id)
        .join(Person, Person.id == Appointment.person_id)
        .where(
            Appointment.person_id == person_id,
            Appointment.acting_organisation_id.in_(actor.staff_organisation_ids),
            Person.purged_at.is_(None),
        )
        .limit(1)
    )
    return held is not None


def _nothing_booked() -> ColumnElement[bool]:
    return ~exists(
        select(Appointment.id).where(
            Appointment.journey_id == Journey.id, Appointment.status.in_(_HOLDING)
        )
    )


async def visible_journey(uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID) -> Followed:
    """A journey the agent may see, or NotFound (unknown and foreign look alike)."""
    row = (
        await uow.session.execute(
            select(Journey, Person, Cohort)
            .join(Person, Person.id == Journey.person_id)
            .join(Cohort, Cohort.id == Journey.cohort_id)
            .where(Journey.id == journey_id, await _scope(uow, actor))
        )
    ).first()
    if row is None:
        raise NotFound("journey not found", field="journey_id")
    return Followed(row[0], row[1], row[2], row[0].referent_id == actor.agent_id)


async def open_journeys(uow: UnitOfWork, actor: Actor, name: str = "") -> list[Followed]:
    """Open journeys with nothing booked, the agent's own first, filtered by a name."""
    query = (
        select(Journey, Person, Cohort)
        .join(Person, Person.id == Journey.person_id)
        .join(Cohort, Cohort.id == Journey.cohort_id)
        .where(await _scope(uow, actor), Journey.closed_at.is_(None), _nothing_booked())
    )
    for word in name.split()[:3]:
        pattern = f"%{word.lower().replace('%', '').replace('_', '')}%"
        query = query.where(
            or_(
                func.lower(Person.last_name).like(pattern),
                func.lower(Person.first_name).like(pattern),
            )
        )
    rows = (
        await uow.session.execute(
            query.order_by(
                (Journey.referent_id == actor.agent_id).desc(),
                Journey.appointment_by_on,
                Person.last_name,
                Journey.id,
            ).limit(MAX_ROWS)
        )
    ).all()
    await audit.record(uow, actor, (p.id for _, p, _ in rows), audit.Read.JOURNEY_SEARCH)
    return [Followed(j, p, c, j.referent_id == actor.agent_id) for j, p, c in rows]


async def to_follow(uow: UnitOfWork, actor: Actor, *, today: date) -> list[Followed]:
    """Open journeys with nothing booked whose deadline is within their cohort's alert delay
    (or past): the agent's own first, then the team's, nearest deadline first."""
    horizon = await uow.session.scalar(
        select(func.max(Cohort.deadline_alert_days)).where(
            Cohort.territory_id.in_(actor.territory_ids)
        )
    )
    rows = await open_journeys_until(uow, actor, today + timedelta(days=horizon or 0))
    near = [
        f
        for f in rows
        if f.journey.appointment_by_on <= today + timedelta(days=f.cohort.deadline_alert_days)
    ]
    await audit.record(uow, actor, (f.person.id for f in near), audit.Read.PEOPLE_TO_FOLLOW)
    return sorted(near, key=lambda f: (not f.mine, f.journey.appointment_by_on, f.person.last_name))


async def open_journeys_until(uow: UnitOfWork, actor: Actor, until: date) -> list[Followed]:
    """Open journeys with nothing booked and a deadline on or before ``until``."""
    rows = (
        await uow.session.execute(
            select(Journey, Person, Cohort)
            .join(Person, Person.id == Journey.person_id)
            .join(Cohort, Cohort.id == Journey.cohort_id)
            .where(
                await _scope(uow, actor),
                Journey.closed_at.is_(None),
                Journey.appointment_by_on <= until,
                _nothing_booked(),
            )
            .order_by(Journey.appointment_by_on, Journey.id)
            .limit(MAX_ROWS)
        )
    ).all()
    return [Followed(j, p, c, j.referent_id == actor.agent_id) for j, p, c in rows]


async def unlock(uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID) -> None:
    """Let the person try the identity check of their link again."""
    followed = await visible_journey(uow, actor, journey_id)
    followed.journey.identity_failures = 0
    followed.journey.identity_locked_at = None


async def following_organisations(
    uow: UnitOfWork, followed: Followed
) -> frozenset[uuid.UUID] | None:
    """The structures whose agents receive the person: the cohort's and those the journey's
    referent works for on its territory (None: no structure is named, any may receive)."""
    found = set()
    if followed.cohort.organisation_id is not None:
        found.add(followed.cohort.organisation_id)
    if followed.journey.referent_id is not None:
        found.update(
            await uow.session.scalars(
                select(Membership.organisation_id)
                .join(Organisation, Organisation.id == Membership.organisation_id)
                .where(
                    Membership.agent_id == followed.journey.referent_id,
                    Membership.role != Role.PARTNER,
                    Organisation.territory_id == followed.journey.territory_id,
                )
            )
        )
    return frozenset(found) or None
