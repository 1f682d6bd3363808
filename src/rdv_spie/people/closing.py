"""Closing a journey with a reason, and which journeys the territory team acts on.

The team of a territory (its admins and animators) follows every journey of its cohorts; the
staff of a cohort's structure see them too (the API's rule, ``service.get_cohort``), but only
the team acts on them: anyone else who sees the journey is Forbidden, anyone who does not is
the same NotFound as for an unknown id. A closed journey leaves the lists, its invitations and
reminders stop (the queued ones are cancelled here; the planner and the sender skip closed
journeys), and its link no longer opens.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import update

from rdv_spie.agents.guards import Actor, require_territory_manager, territory_team
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.people.models import Cohort, Journey, Person


class CloseReason(StrEnum):
    """Why a journey ends before (or without) its first appointment."""

    WORK_OR_TRAINING = "emploi_formation"  # found work or a training
    MOVED_AWAY = "demenagement"
    REFUSED = "refus"
    DUPLICATE = "doublon"


async def team_journey(uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID) -> Journey:
    """A journey the actor acts on as the territory team: NotFound when they do not see it
    (unknown, another territory, another structure's cohort, an erased person), Forbidden when
    they see it without being in the team (a referent of the cohort's structure)."""
    journey = await uow.session.get(Journey, journey_id)
    cohort = await uow.session.get(Cohort, journey.cohort_id) if journey else None
    person = await uow.session.get(Person, journey.person_id) if journey else None
    if (
        journey is None
        or cohort is None
        or person is None
        or person.purged_at is not None
        or not (
            cohort.organisation_id in actor.staff_organisation_ids
            or cohort.territory_id in await territory_team(uow, actor)
        )
    ):
        raise NotFound("journey not found", field="journey_id")
    await require_territory_manager(
        uow,
        actor,
        journey.territory_id,
        what="journey",
        detail="only an admin or an animator of the territory can do this",
    )
    return journey


async def close_journey(
    uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID, reason: str
) -> Journey:
    """Close an open journey with one of the reasons; its queued invitations and reminders
    are cancelled in the same transaction. Closing twice is a Conflict (``already_closed``)."""
    journey = await team_journey(uow, actor, journey_id)
    if reason not in {r.value for r in CloseReason}:
        raise Invalid("not one of the closing reasons", field="reason", code="reason_invalid")
    if journey.closed_at is not None:
        raise Conflict("the journey is already closed", field="journey_id", code="already_closed")
    now = uow.clock.now()
    journey.closed_at = now
    journey.closed_reason = reason
    # Messages of its invitations (the invitation and its reminders) that have not left.
    await uow.session.execute(
        update(Notification)
        .where(
            Notification.journey_id == journey.id,
            Notification.invitation_id.is_not(None),
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.CANCELLED, settled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await uow.session.flush()
    return journey
