"""Messages that follow an appointment's life: confirmation, reminder 48 h before, cancellation.

Called by the booking service inside its transaction, so a message exists if and only if the
change it announces was committed.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications import outbox
from rdv_spie.notifications.policy import APPOINTMENT_REMINDER_BEFORE, SendingWindow
from rdv_spie.people.models import MONDAY_TO_SATURDAY, Cohort, Journey, Person
from rdv_spie.scheduling.messages import CANCELLED, CONFIRMATION, REMINDER
from rdv_spie.scheduling.models import Appointment
from rdv_spie.territories.models import Territory


async def appointment_booked(uow: UnitOfWork, appointment: Appointment) -> None:
    """A confirmation now and a reminder 48 h before, on each channel the person accepts."""
    await _announce(uow, appointment, CONFIRMATION, with_reminder=True)


async def appointment_moved(uow: UnitOfWork, appointment: Appointment) -> None:
    """Earlier reminders are withdrawn; a new confirmation (SEQUENCE + 1) and reminder follow."""
    await outbox.cancel_pending(uow, appointment_id=appointment.id, names=[CONFIRMATION, REMINDER])
    await _announce(uow, appointment, CONFIRMATION, with_reminder=True)


async def appointment_cancelled(uow: UnitOfWork, appointment: Appointment) -> None:
    """Pending reminders are withdrawn and the person is told (with METHOD:CANCEL)."""
    await outbox.cancel_pending(uow, appointment_id=appointment.id, names=[CONFIRMATION, REMINDER])
    await _announce(uow, appointment, CANCELLED, with_reminder=False)


async def _announce(
    uow: UnitOfWork, appointment: Appointment, name: str, *, with_reminder: bool
) -> None:
    if appointment.person_id is None:
        return
    person = await uow.session.get(Person, appointment.person_id)
    if person is None:
        return
    channels = [
        c
        for c, ok in (
            ("sms", person.sms_consent and person.phone),
            ("email", person.email_consent and person.email),
        )
        if ok
    ]
    if not channels:
        return
    window = await _window(uow, appointment)
    now = uow.clock.now()
    remind_at = window.next_open(appointment.starts_at - APPOINTMENT_REMINDER_BEFORE)
    # A reminder only makes sense well before the appointment and after the confirmation.
    remind = (
        with_reminder and now < remind_at < appointment.starts_at - APPOINTMENT_REMINDER_BEFORE / 4
    )
    for channel in channels:
        common = {
            "territory_id": appointment.territory_id,
            "channel": channel,
            "person_id": person.id,
            "journey_id": appointment.journey_id,
            "appointment_id": appointment.id,
            "params": {"sequence": appointment.sequence},
        }
        await outbox.add(
            uow,
            name=name,
            key=f"{name}:{appointment.id}:{appointment.sequence}:{channel}",
            not_before=now,
            **common,  # type: ignore[arg-type]
        )
        if remind:
            await outbox.add(
                uow,
                name=REMINDER,
                key=f"{REMINDER}:{appointment.id}:{appointment.sequence}:{channel}",
                not_before=remind_at,
                **common,  # type: ignore[arg-type]
            )


async def _window(uow: UnitOfWork, appointment: Appointment) -> SendingWindow:
    """The cohort's sending window when the appointment answers a journey, else 9 h–19 h
    Monday to Saturday, in the territory's zone."""
    territory = await uow.session.get(Territory, appointment.territory_id)
    zone = ZoneInfo(territory.timezone if territory else "Europe/Paris")
    cohort = None
    if appointment.journey_id is not None:
        cohort = await uow.session.scalar(
            select(Cohort)
            .join(Journey, Journey.cohort_id == Cohort.id)
            .where(Journey.id == appointment.journey_id)
        )
    if cohort is None:
        return SendingWindow(time(9), time(19), MONDAY_TO_SATURDAY, zone)
    return SendingWindow(
        cohort.send_window_start, cohort.send_window_end, cohort.send_weekdays, zone
    )
