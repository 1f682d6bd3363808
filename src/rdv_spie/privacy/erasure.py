"""A person's data erased on request (GDPR art. 17): the same erasure as the retention purge
(privacy/retention.erase_where: names, birth date, contacts and ids emptied, committee texts
emptied, waiting messages cancelled, browser sessions closed), for an admin of the person's
territory, with the reason written to the trail (privacy/models.PersonErasure: who, when,
why; and a line ``erasure`` in the read trail).

Appointments still to come are revoked first (the agents' time is freed; the messages that
would tell of it are cancelled by the erasure itself, since nobody is left to tell). Erasing
twice is refused (409): there is nothing left to erase.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.people.models import Person
from rdv_spie.privacy import record, retention
from rdv_spie.privacy.models import PersonErasure
from rdv_spie.scheduling import booking
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

REASON_MAX = 500


async def erase_on_request(
    uow: UnitOfWork, actor: Actor, person_id: uuid.UUID, reason: str
) -> PersonErasure:
    """Erase the person now, whatever their activity; the trail's line."""
    text = " ".join(reason.split())
    if not text:
        raise Invalid("say why the data is erased", field="reason", code="erase_reason_missing")
    if len(text) > REASON_MAX:
        raise Invalid(
            f"at most {REASON_MAX} characters", field="reason", code="erase_reason_too_long"
        )
    person = await record.person_for_admin(uow, actor, person_id)
    await uow.lock(f"intake:{person.territory_id}")  # as the purge: no import matches them
    await uow.session.refresh(person)
    if person.purged_at is not None:
        raise Conflict(
            "this person's data is already erased", field="person_id", code="already_erased"
        )
    coming = await uow.session.scalars(
        select(Appointment.id).where(
            Appointment.person_id == person.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > uow.clock.now(),
        )
    )
    for appointment_id in list(coming):
        await booking.set_status(
            uow=uow, actor=None, appointment_id=appointment_id, status=AppointmentStatus.REVOKED
        )
    # The trail's line first: once erased, the person's row shows nothing (no line).
    await audit.record(uow, actor, [person.id], audit.Read.ERASURE)
    erased = await retention.erase_where(uow, [person.id], Person.purged_at.is_(None))
    if not erased:
        raise Conflict(
            "this person's data is already erased", field="person_id", code="already_erased"
        )
    line = PersonErasure(
        person_id=person.id, agent_id=actor.agent_id, at=uow.clock.now(), reason=text
    )
    uow.session.add(line)
    await uow.session.flush()
    return line
