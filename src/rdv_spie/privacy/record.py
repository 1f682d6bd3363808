"""Everything held about one person, for their access request (GDPR art. 15): identity and
contact, consents, journeys, appointments, the messages sent to them, committee requests
(fiches) and the read trail of who was shown their file. For the admins of the person's
territory; the export itself is written to that trail.

The same values feed the JSON answer (instants in UTC) and the readable page (in the
territory's time). Nothing about other people: an agent appears by name where
they acted on the file (referent, reader), never with their contacts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from rdv_spie.agents.guards import Actor, require_territory_admin
from rdv_spie.agents.models import Agent
from rdv_spie.audit import service as audit
from rdv_spie.audit.models import FileRead
from rdv_spie.committees.models import CtoRequest, CtoSession
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.privacy.models import PersonErasure
from rdv_spie.scheduling.models import Appointment, AppointmentType
from rdv_spie.territories.models import Place

ADMINS_ONLY = "only an admin of the person's territory exports or erases their data"
_IDENTITY = (
    "first_name",
    "last_name",
    "birth_on",
    "phone",
    "email",
    "caf_number",
    "france_travail_id",
    "departement_id",
    "postcode",
    "sms_consent",
    "email_consent",
    "prefers_call",
    "created_at",
    "purged_at",
)


async def person_for_admin(uow: UnitOfWork, actor: Actor, person_id: uuid.UUID) -> Person:
    """The person, for an admin of their territory: 404 off the actor's territories, 403 for
    anyone else of it."""
    person = await uow.session.get(Person, person_id)
    if person is None:
        raise NotFound("person not found", field="person_id")
    await require_territory_admin(
        uow, actor, person.territory_id, what="person", detail=ADMINS_ONLY
    )
    return person


def _names(rows: Any) -> dict[uuid.UUID, str]:
    return {a: f"{first} {last}" for a, first, last in rows}


async def person_record(uow: UnitOfWork, actor: Actor, person: Person) -> dict[str, Any]:
    """Everything held about the person (see the module's docstring), found by
    ``person_for_admin``; written to the trail."""
    journeys = (
        await uow.session.execute(
            select(Journey, Cohort.name)
            .join(Cohort, Cohort.id == Journey.cohort_id)
            .where(Journey.person_id == person.id)
            .order_by(Journey.entered_on, Journey.id)
        )
    ).all()
    journey_ids = [j.id for j, _ in journeys]
    appointments = (
        await uow.session.execute(
            select(Appointment, AppointmentType.name, Place.name)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .join(Place, Place.id == Appointment.place_id)
            .where(Appointment.person_id == person.id)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    ).all()
    messages = (
        await uow.session.scalars(
            select(Notification)
            .where(
                Notification.agent_id.is_(None),
                or_(
                    Notification.person_id == person.id,
                    Notification.journey_id.in_(journey_ids),
                ),
            )
            .order_by(Notification.not_before, Notification.id)
        )
    ).all()
    requests = (
        await uow.session.execute(
            select(CtoRequest, CtoSession.starts_at)
            .join(CtoSession, CtoSession.id == CtoRequest.session_id)
            .where(CtoRequest.person_id == person.id)
            .order_by(CtoRequest.submitted_at, CtoRequest.id)
        )
    ).all()
    reads = (
        await uow.session.execute(
            select(FileRead.at, FileRead.agent_id, FileRead.what)
            .where(FileRead.person_id == person.id)
            .order_by(FileRead.at.desc(), FileRead.id)
        )
    ).all()
    erasure = await uow.session.get(PersonErasure, person.id)
    agent_ids = {j.referent_id for j, _ in journeys} | {r.agent_id for r in reads}
    if erasure is not None:
        agent_ids.add(erasure.agent_id)
    names = _names(
        await uow.session.execute(
            select(Agent.id, Agent.first_name, Agent.last_name).where(
                Agent.id.in_([a for a in agent_ids if a is not None])
            )
        )
    )
    await audit.record(uow, actor, [person.id], audit.Read.EXPORT)
    return {
        "person_id": str(person.id),
        "identity": {name: getattr(person, name) for name in _IDENTITY},
        "journeys": [
            {
                "cohort": cohort,
                "entered_on": j.entered_on,
                "appointment_by_on": j.appointment_by_on,
                "referent": names.get(j.referent_id) if j.referent_id else None,
                "invited_at": j.invited_at,
                "closed_at": j.closed_at,
                "closed_reason": j.closed_reason,
            }
            for j, cohort in journeys
        ],
        "appointments": [
            {
                "type": type_name,
                "place": place,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "status": str(a.status),
            }
            for a, type_name, place in appointments
        ],
        "messages": [
            {
                "kind": m.name,
                "channel": m.channel,
                "status": str(m.status),
                "planned_at": m.not_before,
                "sent_at": m.sent_at,
            }
            for m in messages
        ],
        "committee_requests": [
            {
                "session_starts_at": session_at,
                "thematics": list(r.thematics),
                "summary": r.summary,
                "already_tried": r.already_tried,
                "consent": r.consent,
                "consent_text": r.consent_text,
                "urgent": r.urgent,
                "urgent_reason": r.urgent_reason,
                "submitted_at": r.submitted_at,
                "status": str(r.status),
                "decision": r.decision,
                "next_steps": r.next_steps,
            }
            for r, session_at in requests
        ],
        "reads": [
            {"at": at, "agent": names.get(agent_id), "what": what} for at, agent_id, what in reads
        ],
        "erasure": None
        if erasure is None
        else {
            "at": erasure.at,
            "agent": names.get(erasure.agent_id),
            "reason": erasure.reason,
        },
    }
