"""Until when a person may cancel or move their appointment online (pure).

Each appointment type sets its cut-offs; a type may forbid cancelling online altogether
(the person then calls the structure).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rdv_spie.scheduling.models import Appointment, AppointmentStatus, AppointmentType


def can_cancel(appointment: Appointment, type_: AppointmentType, now: datetime) -> bool:
    """Booked, the type allows it, and before start − cancel cut-off."""
    return (
        appointment.status == AppointmentStatus.BOOKED
        and type_.online_cancel
        and now < appointment.starts_at - timedelta(minutes=type_.cancel_cutoff_minutes)
    )


def can_move(appointment: Appointment, type_: AppointmentType, now: datetime) -> bool:
    """Booked, and before start − move cut-off."""
    return appointment.status == AppointmentStatus.BOOKED and now < (
        appointment.starts_at - timedelta(minutes=type_.move_cutoff_minutes)
    )
