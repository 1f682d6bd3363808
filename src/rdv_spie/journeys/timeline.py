"""A person's journey as the territory team reads it: who, which cohort, the status and the
deadline, and the timeline, newest first: entry, every message written to the person for this
journey (invitations, reminders, appointment messages: channel and delivery status), the
appointments (date, place, status), the committee requests (status and session date only:
never what the fiche says) and the closing.

Read through ``people.closing.team_journey`` (the team only); reading it goes to the person's
read trail, as the API's reads do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Agent
from rdv_spie.audit import service as audit
from rdv_spie.committees.models import CtoRequest, CtoSession
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications.models import Notification
from rdv_spie.people import closing
from rdv_spie.people import service as people
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.people.status import JourneyStatus
from rdv_spie.scheduling.models import Appointment, AppointmentType
from rdv_spie.territories.models import Place


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline: ``kind`` is entry, message, appointment, committee or
    closing; ``at`` an instant (entry: the start of its local day); ``facts`` what the
    template words (codes, names, local instants)."""

    at: datetime
    kind: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JourneyFile:
    """Everything the person's page shows."""

    journey: Journey
    person: Person
    cohort: Cohort
    referent: Agent | None
    status: JourneyStatus
    today: date
    days_left: int
    upcoming: bool  # an appointment to come: inviting again is refused
    events: list[Event]


async def read(uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID, zone: ZoneInfo) -> JourneyFile:
    """The journey's file for the team (NotFound / Forbidden as ``closing.team_journey``)."""
    journey = await closing.team_journey(uow, actor, journey_id)
    person = await uow.session.get(Person, journey.person_id)
    cohort = await uow.session.get(Cohort, journey.cohort_id)
    assert person is not None and cohort is not None
    referent = await uow.session.get(Agent, journey.referent_id) if journey.referent_id else None
    now = uow.clock.now()
    today = now.astimezone(zone).date()
    status = (await people.statuses(uow, [journey], zone))[journey.id]
    events = [
        Event(
            datetime.combine(journey.entered_on, time(0), zone),
            "entry",
            {"on": journey.entered_on},
        )
    ]
    appointments = (
        await uow.session.execute(
            select(Appointment, Place.name, AppointmentType.name)
            .join(Place, Place.id == Appointment.place_id)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .where(Appointment.journey_id == journey.id)
        )
    ).all()
    upcoming = False
    for appointment, place, type_name in appointments:
        upcoming |= appointment.status == "booked" and appointment.starts_at > now
        events.append(
            Event(
                appointment.starts_at,
                "appointment",
                {
                    "starts": appointment.starts_at.astimezone(zone),
                    "place": place,
                    "type": type_name,
                    "status": str(appointment.status),
                    "past": appointment.starts_at <= now,
                },
            )
        )
    appointment_ids = [a.id for a, _, _ in appointments]
    messages = await uow.session.scalars(
        select(Notification).where(
            Notification.person_id == person.id,
            or_(
                Notification.journey_id == journey.id,
                Notification.appointment_id.in_(appointment_ids),
            ),
        )
    )
    for n in messages:
        at = n.sent_at or n.not_before
        events.append(
            Event(
                at,
                "message",
                {
                    "name": n.name,
                    "channel": n.channel,
                    "status": str(n.status),
                    "at": at.astimezone(zone),
                    "left": n.sent_at is not None,
                    "reminder_number": n.params.get("reminder_number"),
                },
            )
        )
    requests = await uow.session.execute(
        select(CtoRequest.submitted_at, CtoRequest.status, CtoSession.starts_at, CtoSession.status)
        .join(CtoSession, CtoSession.id == CtoRequest.session_id)
        .where(
            or_(
                CtoRequest.journey_id == journey.id,
                (CtoRequest.journey_id.is_(None)) & (CtoRequest.person_id == person.id),
            )
        )
    )
    for submitted_at, request_status, session_at, session_status in requests:
        events.append(
            Event(
                submitted_at,
                "committee",
                {
                    "submitted": submitted_at.astimezone(zone),
                    "status": str(request_status),
                    "session": session_at.astimezone(zone),
                    "session_status": str(session_status),
                },
            )
        )
    if journey.closed_at is not None:
        events.append(
            Event(
                journey.closed_at,
                "closing",
                {"at": journey.closed_at.astimezone(zone), "reason": journey.closed_reason},
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    await audit.record(uow, actor, [person.id], audit.Read.JOURNEY)
    return JourneyFile(
        journey=journey,
        person=person,
        cohort=cohort,
        referent=referent,
        status=status,
        today=today,
        days_left=(journey.appointment_by_on - today).days,
        upcoming=upcoming,
        events=events,
    )
