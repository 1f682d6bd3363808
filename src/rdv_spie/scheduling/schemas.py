"""HTTP shapes of the scheduling room. Instants are RFC 3339 with an offset, answered in UTC."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from rdv_spie.scheduling.models import (
    Absence,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Attendance,
    AttendeeRole,
    AvailabilityRule,
)
from rdv_spie.schemas import Name, Patch, Phone, Text, TimeOfDay

# What to bring, shown on the confirmation page and in messages ("" or null clears it on PATCH).
LongText = Annotated[str, msgspec.Meta(max_length=2000)]


class AppointmentTypeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    territory_id: uuid.UUID
    name: str
    duration_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    attendance: Attendance
    place_ids: list[uuid.UUID]
    active: bool
    online_cancel: bool  # whether the person may cancel online (else: they call)
    cancel_cutoff_minutes: int  # online cancelling stops this long before the start
    move_cutoff_minutes: int  # online moving stops this long before the start
    what_to_bring: str | None
    show_agent_name: bool
    mandatory: bool  # the invitation says the person is required to come

    @classmethod
    def of(cls, t: AppointmentType) -> AppointmentTypeOut:
        """From a row."""
        return cls(
            id=t.id,
            territory_id=t.territory_id,
            name=t.name,
            duration_minutes=t.duration_minutes,
            buffer_after_minutes=t.buffer_after_minutes,
            min_notice_minutes=t.min_notice_minutes,
            horizon_days=t.horizon_days,
            attendance=Attendance(t.attendance),
            place_ids=[p.id for p in t.allowed_places],
            active=t.active,
            online_cancel=t.online_cancel,
            cancel_cutoff_minutes=t.cancel_cutoff_minutes,
            move_cutoff_minutes=t.move_cutoff_minutes,
            what_to_bring=t.what_to_bring,
            show_agent_name=t.show_agent_name,
            mandatory=t.mandatory,
        )


class AppointmentTypeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    territory_id: uuid.UUID
    name: Text
    duration_minutes: int = msgspec.field(default=45)
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_days: int = 60
    attendance: Attendance = Attendance.SINGLE
    place_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    online_cancel: bool = True
    cancel_cutoff_minutes: int = 240
    move_cutoff_minutes: int = 2880
    what_to_bring: LongText | None = None
    # Whether the person is told the referent's first name and structure.
    show_agent_name: bool = True
    # Whether the person is required to come (the invitation says so).
    mandatory: bool = False


class AppointmentTypePatch(Patch):
    name: Text | UnsetType = UNSET
    duration_minutes: int | UnsetType = UNSET
    buffer_after_minutes: int | UnsetType = UNSET
    min_notice_minutes: int | UnsetType = UNSET
    horizon_days: int | UnsetType = UNSET
    attendance: Attendance | UnsetType = UNSET
    place_ids: list[uuid.UUID] | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    online_cancel: bool | UnsetType = UNSET
    cancel_cutoff_minutes: int | UnsetType = UNSET
    move_cutoff_minutes: int | UnsetType = UNSET
    what_to_bring: LongText | UnsetType | None = UNSET  # null or "" clears it
    show_agent_name: bool | UnsetType = UNSET
    mandatory: bool | UnsetType = UNSET


class RuleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_id: uuid.UUID | None = None  # default: yourself
    place_id: uuid.UUID
    # The structure these hours are opened for; default: the agent's only structure on the
    # place's territory, else the place's own if the agent belongs to it.
    organisation_id: uuid.UUID | None = None
    weekdays: list[int]  # 0 = Monday … 6 = Sunday
    start_time: TimeOfDay  # local time of the territory, e.g. "09:00:00"
    end_time: TimeOfDay
    valid_from: date
    valid_until: date | None = None
    appointment_type_ids: list[uuid.UUID]


class RuleOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agent_id: uuid.UUID
    place_id: uuid.UUID
    organisation_id: uuid.UUID
    weekdays: list[int]
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None
    appointment_type_ids: list[uuid.UUID]

    @classmethod
    def of(cls, r: AvailabilityRule) -> RuleOut:
        """From a row."""
        return cls(
            id=r.id,
            agent_id=r.agent_id,
            place_id=r.place_id,
            organisation_id=r.organisation_id,
            weekdays=sorted(r.weekday_set),
            start_time=r.start_time,
            end_time=r.end_time,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            appointment_type_ids=[t.id for t in r.appointment_types],
        )


class AbsenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_id: uuid.UUID | None = None  # default: yourself
    starts_at: datetime
    ends_at: datetime
    title: Text | None = None


class AbsenceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agent_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    title: str | None

    @classmethod
    def of(cls, a: Absence) -> AbsenceOut:
        """From a row."""
        return cls(
            id=a.id, agent_id=a.agent_id, starts_at=a.starts_at, ends_at=a.ends_at, title=a.title
        )


class SlotOut(msgspec.Struct, kw_only=True):
    starts_at: datetime
    ends_at: datetime
    local_start: str  # wall time in the territory's zone, with its offset
    place_id: uuid.UUID
    free_referents: int


class PersonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    email: Text | None = None


class BookingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    appointment_type_id: uuid.UUID
    place_id: uuid.UUID
    starts_at: datetime
    person_id: uuid.UUID | None = None
    person: PersonIn | None = None
    journey_id: uuid.UUID | None = None
    referent_id: uuid.UUID | None = None
    # The structure the appointment is held for (one of yours); default: the journey's
    # cohort's if you belong to it, else your only structure on the territory.
    organisation_id: uuid.UUID | None = None


class MoveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    starts_at: datetime
    place_id: uuid.UUID | None = None


class CancelIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    by: str = "service"  # "service" (revoked) or "person" (cancelled)


class StatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: AppointmentStatus


class AttendeeOut(msgspec.Struct, kw_only=True):
    agent_id: uuid.UUID
    role: AttendeeRole


class AppointmentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    territory_id: uuid.UUID
    acting_organisation_id: uuid.UUID
    appointment_type_id: uuid.UUID
    place_id: uuid.UUID
    person_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus
    sequence: int
    agents: list[AttendeeOut]

    @classmethod
    def of(cls, a: Appointment) -> AppointmentOut:
        """From a row."""
        return cls(
            id=a.id,
            territory_id=a.territory_id,
            acting_organisation_id=a.acting_organisation_id,
            appointment_type_id=a.appointment_type_id,
            place_id=a.place_id,
            person_id=a.person_id,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            status=AppointmentStatus(a.status),
            sequence=a.sequence,
            agents=[
                AttendeeOut(agent_id=x.agent_id, role=AttendeeRole(x.role)) for x in a.attendees
            ],
        )
