"""The messages of the invitation planner: the invitation and its reminders to the person, and
the alerts to agents (a deadline near with nothing booked, people waiting for slots). Their
kinds are gathered in ``rdv_spie/messages.py``; an invitation or reminder stops by itself once
something is booked or its link expired (``notifications/compose.py``: rows with an
invitation). Rows carry ids only; the alerts read their people here, when they are sent (the
pages they link to are added by ``rdv_spie/messages.py``, from these ids)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import raiseload

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Extra, MessageKind, Recipient
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import AppointmentType

INVITATION = "invitation"
INVITATION_REMINDER = "invitation_reminder"
REFERENT_DEADLINE_ALERT = "referent_deadline_alert"
ANIMATOR_NO_SLOTS_ALERT = "animator_no_slots_alert"


async def _deadline_alert(uow: UnitOfWork, n: Notification, public_url: str) -> Extra:
    """The referent's people whose deadline is near with nothing booked."""
    ids = [uuid.UUID(i) for i in n.params.get("journey_ids", [])]
    rows = await uow.session.execute(
        select(
            Journey.id, Person.first_name, Person.last_name, Cohort.name, Journey.appointment_by_on
        )
        .join(Journey, Journey.person_id == Person.id)
        .join(Cohort, Cohort.id == Journey.cohort_id)
        .where(Journey.id.in_(ids))
        .order_by(Journey.appointment_by_on, Person.last_name)
    )
    return Extra(
        {
            "journeys": [
                {
                    "id": str(i),
                    "first_name": f,
                    "last_name": la,
                    "cohort_name": c,
                    "appointment_by": d,
                }
                for i, f, la, c, d in rows
            ]
        }
    )


async def _no_slots_alert(uow: UnitOfWork, n: Notification, public_url: str) -> Extra:
    """A cohort whose people wait: no slot of its type before their deadline."""
    cohort = await uow.session.get(Cohort, uuid.UUID(n.params["cohort_id"]))
    assert cohort is not None
    type_ = (
        await uow.session.get(
            AppointmentType,
            cohort.appointment_type_id,
            options=[raiseload(AppointmentType.allowed_places)],
        )
        if cohort.appointment_type_id
        else None
    )
    return Extra(
        {
            "cohort": {"id": str(cohort.id), "name": cohort.name},
            "waiting_count": int(n.params.get("waiting_count", 0)),
            "type_name": type_.name if type_ else "",
            "appointment_by_first": date.fromisoformat(n.params["appointment_by_first"]),
        }
    )


KINDS = (
    MessageKind(INVITATION, Recipient.PERSON, ("sms", "email")),
    MessageKind(INVITATION_REMINDER, Recipient.PERSON, ("sms", "email")),
    MessageKind(REFERENT_DEADLINE_ALERT, Recipient.AGENT, ("email",), build=_deadline_alert),
    MessageKind(ANIMATOR_NO_SLOTS_ALERT, Recipient.AGENT, ("email",), build=_no_slots_alert),
)
