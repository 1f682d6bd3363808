"""Who an appointment belongs to: its acting organisation (structure qui reçoit).

An agent's booking is held for a structure the agent works for (the journey's cohort's when
they work for it, else the structure of the opening hours it takes, else their first); the
person's own booking for the cohort's structure, else the hours'. Its staff see and change it,
its attendees see it; nobody else does (another structure's shared calendar shows "busy").
Pure reads and rules: nothing here writes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from rdv_spie import localtime
from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Forbidden, Invalid
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.models import Appointment, AvailabilityRule, availability_rule_type
from rdv_spie.territories.models import Organisation, Territory


def can_see(actor: Actor, appointment: Appointment) -> bool:
    """The actor attends it, or works for its acting organisation (a colleague attending is
    not enough: an agent of two structures would carry one's appointments to the other)."""
    return appointment.acting_organisation_id in actor.staff_organisation_ids or any(
        a.agent_id == actor.agent_id for a in appointment.attendees
    )


async def staff_structures(
    uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID
) -> list[uuid.UUID]:
    """The actor's organisations on the territory that may hold appointments, by name."""
    found = list(
        await uow.session.scalars(
            select(Organisation.id)
            .where(
                Organisation.id.in_(actor.staff_organisation_ids),
                Organisation.territory_id == territory_id,
            )
            .order_by(Organisation.name)
        )
    )
    if not found:
        raise Forbidden(
            "only a referent, an admin or an animator of a structure of the territory can book",
            field="organisation_id",
        )
    return found


def require_following(
    organisation_id: uuid.UUID | None, following: frozenset[uuid.UUID] | None
) -> None:
    """A journey's appointment is held for a structure following it (None: any may)."""
    if organisation_id is not None and following is not None and organisation_id not in following:
        raise Invalid(
            "this structure does not follow the journey: book it for one that does",
            field="organisation_id",
            code="not_following",
        )


def acting(
    mine: list[uuid.UUID],
    chosen: uuid.UUID | None,
    cohort_organisation_id: uuid.UUID | None,
    opened_for: uuid.UUID,
) -> uuid.UUID:
    """The structure an agent's booking is held for: so the booker always sees it."""
    if chosen is not None:
        return chosen
    for candidate in (cohort_organisation_id, opened_for):
        if candidate in mine:
            return candidate
    return mine[0]


async def hours_owner(
    uow: UnitOfWork,
    territory: Territory,
    type_id: uuid.UUID,
    slot: engine.Slot,
    referent_id: uuid.UUID,
    among: frozenset[uuid.UUID] | None,
) -> uuid.UUID:
    """The structure of the referent's opening hours that hold the slot."""
    local = slot.starts_at.astimezone(localtime.zone(territory.timezone))
    query = (
        select(AvailabilityRule.organisation_id, AvailabilityRule.weekdays)
        .join(
            availability_rule_type,
            availability_rule_type.c.availability_rule_id == AvailabilityRule.id,
        )
        .where(
            AvailabilityRule.agent_id == referent_id,
            AvailabilityRule.place_id == slot.place_id,
            availability_rule_type.c.appointment_type_id == type_id,
            AvailabilityRule.valid_from <= local.date(),
            or_(
                AvailabilityRule.valid_until.is_(None),
                AvailabilityRule.valid_until >= local.date(),
            ),
            AvailabilityRule.start_time <= local.time(),
            AvailabilityRule.end_time > local.time(),
        )
        .order_by(AvailabilityRule.organisation_id)
    )
    if among is not None:
        query = query.where(AvailabilityRule.organisation_id.in_(among))
    # Two columns, not the rule: loading it would load its types and places too.
    for organisation_id, weekdays in (await uow.session.execute(query)).all():
        if weekdays & (1 << local.weekday()):
            return organisation_id
    raise Conflict(  # the slot engine found these hours a moment ago
        "this slot has just been closed", field="starts_at", code="slot_taken"
    )
