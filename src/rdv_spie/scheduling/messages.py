"""The messages that follow an appointment's life (written by ``notices.py``): their kinds,
gathered in ``rdv_spie/messages.py``. What they say comes from the context every appointment
message shares (``notifications/compose.py``): the time, the place, whom, the person's link."""

from __future__ import annotations

from rdv_spie.notifications.registry import MessageKind, Recipient

CONFIRMATION = "booking_confirmation"
REMINDER = "appointment_reminder"
CANCELLED = "appointment_cancelled"

KINDS = (
    MessageKind(
        CONFIRMATION, Recipient.PERSON, ("sms", "email"), ics="REQUEST", follows_appointment=True
    ),
    MessageKind(
        REMINDER, Recipient.PERSON, ("sms", "email"), ics="REQUEST", follows_appointment=True
    ),
    MessageKind(CANCELLED, Recipient.PERSON, ("sms", "email"), ics="CANCEL"),
)
