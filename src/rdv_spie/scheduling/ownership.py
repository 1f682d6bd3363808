"""Who an appointment belongs to: its acting organisation (structure qui reçoit).

An agent's booking is held for a structure the agent works for (the journey's cohort's when
they work for it, else the structure of the opening hours it takes, else their first); the
person's own booking for the cohort's structure, else the hours'. Its staff see and change it,
its attendees see it; nobody else does (another structure's shared calendar shows "busy").
Pure reads and rules: nothing here writes.
"""

from __future__ import annotations

import uuid

from rdv_spie.agents.guards import Actor
from rdv_spie.errors import Forbidden, Invalid
from rdv_spie.scheduling.models import Appointment


def can_see(actor: Actor, appointment: Appointment) -> bool:
    """The actor attends it, or works for its acting organisation (a colleague attending is
    not enough: an agent of two structures would carry one's appointments to the other)."""
    return appointment.acting_organisation_id in actor.staff_organisation_ids or any(
        a.agent_id == actor.agent_id for a in appointment.attendees
    )


def staff_structures(actor: Actor, territory_id: uuid.UUID) -> list[uuid.UUID]:
    """The actor's organisations on the territory that may hold appointments, by name."""
    found = actor.staff_structures_on(territory_id)
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
