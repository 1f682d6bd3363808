"""Who is told that a message to a person will not arrive (``outbox.alert_referent``).

The journey's referent first. Journeys get no referent on import, so without one: the
referent attending the appointment the message was about, else the team of the cohort's
structure (its animators, or its admins when it has none; the territory's animators for a
cohort of no structure), who see its journeys. Active agents only. Reads tables, writes
nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.scheduling.models import AppointmentAgent, AttendeeRole
from rdv_spie.territories.models import Organisation


async def recipients(uow: UnitOfWork, n: Notification) -> list[uuid.UUID]:
    """The agents to alert about ``n`` (a message to a person), in a stable order."""
    if n.person_id is None or n.journey_id is None:
        return []
    journey = await uow.session.get(Journey, n.journey_id)
    if journey is None:
        return []
    active = select(Agent.id).where(Agent.active.is_(True))
    if journey.referent_id is not None:
        found = await uow.session.scalars(active.where(Agent.id == journey.referent_id))
        if referent := list(found):
            return referent
    if n.appointment_id is not None:
        attending = await uow.session.scalars(
            active.join(AppointmentAgent, AppointmentAgent.agent_id == Agent.id).where(
                AppointmentAgent.appointment_id == n.appointment_id,
                AppointmentAgent.role == AttendeeRole.REFERENT,
            )
        )
        if found_attending := sorted(attending):
            return found_attending
    cohort = await uow.session.get(Cohort, journey.cohort_id)
    if cohort is None:
        return []
    team = active.join(Membership, Membership.agent_id == Agent.id).distinct()
    if cohort.organisation_id is None:
        team = team.join(Organisation, Organisation.id == Membership.organisation_id).where(
            Organisation.territory_id == cohort.territory_id
        )
    else:
        team = team.where(Membership.organisation_id == cohort.organisation_id)
    for role in (Role.ANIMATOR, Role.ADMIN):
        if found_team := sorted(await uow.session.scalars(team.where(Membership.role == role))):
            return found_team
    return []
