"""Agents an appointment's move takes off it: their calendar feeds keep the appointment, at
the time they had, as cancelled (calendars/content.py), so the old referent's subscribed
calendar drops it instead of keeping a ghost. An agent who attends it again is no longer
departed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.scheduling.models import Appointment, AppointmentDeparture


@dataclass(frozen=True, slots=True)
class Before:
    """Who attended, and when, before a move."""

    agent_ids: frozenset[uuid.UUID]
    starts_at: datetime
    ends_at: datetime


def before(appointment: Appointment) -> Before:
    return Before(
        frozenset(a.agent_id for a in appointment.attendees),
        appointment.starts_at,
        appointment.ends_at,
    )


async def record(uow: UnitOfWork, appointment: Appointment, was: Before) -> None:
    """After the move: the agents no longer on it are departed (at their old time); those on
    it are not."""
    now = uow.clock.now()
    on_it = {a.agent_id for a in appointment.attendees}
    if on_it:
        await uow.session.execute(
            delete(AppointmentDeparture).where(
                AppointmentDeparture.appointment_id == appointment.id,
                AppointmentDeparture.agent_id.in_(on_it),
            )
        )
    for agent_id in sorted(was.agent_ids - on_it):
        found = await uow.session.scalar(
            select(AppointmentDeparture).where(
                AppointmentDeparture.appointment_id == appointment.id,
                AppointmentDeparture.agent_id == agent_id,
            )
        )
        if found is None:
            found = AppointmentDeparture(appointment_id=appointment.id, agent_id=agent_id)
            uow.session.add(found)
        found.starts_at, found.ends_at, found.departed_at = was.starts_at, was.ends_at, now
    await uow.session.flush()
