"""Tables of the scheduling room.

The no-double-booking invariant lives on ``appointment_agent``: one row per attending agent,
carrying the busy range [starts_at, busy_until) (the appointment plus its buffer) and whether
it still holds the agent's time. PostgreSQL enforces it with an exclusion constraint
(btree_gist, tstzrange), SQLite with triggers; both are created by the migrations.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rdv_spie.db.base import Base, Entity
from rdv_spie.territories.models import Place


class Attendance(StrEnum):
    """Who must attend an appointment of a type."""

    SINGLE = "single"  # one referent
    TRIPARTITE = "tripartite"  # one referent and one animator (e.g. Diagnostic 360)


class AppointmentStatus(StrEnum):
    """Lifecycle of an appointment."""

    BOOKED = "booked"
    SEEN = "seen"
    EXCUSED = "excused"  # the person excused themselves: the time is freed
    NOSHOW = "noshow"
    CANCELLED = "cancelled"  # cancelled by the person
    REVOKED = "revoked"  # cancelled by the service

    @property
    def holds_time(self) -> bool:
        """Whether an appointment in this status keeps its agents busy."""
        return self in _HOLDING


_HOLDING = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NOSHOW})


class AttendeeRole(StrEnum):
    """Why an agent attends."""

    REFERENT = "referent"
    ANIMATOR = "animator"


appointment_type_place = Table(
    "appointment_type_place",
    Base.metadata,
    Column(
        "appointment_type_id",
        ForeignKey("appointment_type.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("place_id", ForeignKey("place.id", ondelete="CASCADE"), primary_key=True),
)

availability_rule_type = Table(
    "availability_rule_type",
    Base.metadata,
    Column(
        "availability_rule_id",
        ForeignKey("availability_rule.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "appointment_type_id",
        ForeignKey("appointment_type.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class AppointmentType(Entity):
    """A motif: duration, buffer, notice, horizon, allowed places, who attends."""

    __tablename__ = "appointment_type"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("buffer_after_minutes >= 0", name="buffer_not_negative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        CheckConstraint("horizon_days > 0", name="horizon_positive"),
        CheckConstraint("cancel_cutoff_minutes >= 0", name="cancel_cutoff_not_negative"),
        CheckConstraint("move_cutoff_minutes >= 0", name="move_cutoff_not_negative"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int]
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=0)
    horizon_days: Mapped[int] = mapped_column(default=60)
    attendance: Mapped[Attendance] = mapped_column(String(16), default=Attendance.SINGLE)
    active: Mapped[bool] = mapped_column(default=True)
    # What a person may do online, and until when before the start.
    online_cancel: Mapped[bool] = mapped_column(default=True)
    cancel_cutoff_minutes: Mapped[int] = mapped_column(default=240)
    move_cutoff_minutes: Mapped[int] = mapped_column(default=2880)
    what_to_bring: Mapped[str | None] = mapped_column(Text)
    # Whether the person is told whom they will meet (the referent's first name and structure):
    # off for types where whoever is free receives.
    show_agent_name: Mapped[bool] = mapped_column(default=True)
    # An appointment the person is required to attend (the RSA's first orientation
    # appointment): the invitation and its reminders say so, in plain words.
    mandatory: Mapped[bool] = mapped_column(default=False)

    allowed_places: Mapped[list[Place]] = relationship(
        secondary=appointment_type_place, lazy="selectin", order_by=Place.name
    )

    @property
    def allowed_place_ids(self) -> frozenset[uuid.UUID]:
        """Ids of the places this type may be booked at (empty = any place)."""
        return frozenset(p.id for p in self.allowed_places)


class AvailabilityRule(Entity):
    """A plage d'ouverture: an agent at a place on chosen weekdays, between two dates."""

    __tablename__ = "availability_rule"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("weekdays > 0 AND weekdays < 128", name="weekdays_mask"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_range"),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), index=True
    )
    place_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("place.id"), index=True)
    # The structure the agent opens these hours for (an agent may belong to several): an
    # appointment booked in them is held on its behalf unless the cohort or the booker says.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    weekdays: Mapped[int]  # bit i set = open on date.weekday() == i (0 = Monday)
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]

    appointment_types: Mapped[list[AppointmentType]] = relationship(
        secondary=availability_rule_type, lazy="selectin", order_by=AppointmentType.name
    )

    @property
    def weekday_set(self) -> frozenset[int]:
        """Weekdays as a set of date.weekday() numbers."""
        return frozenset(i for i in range(7) if self.weekdays & (1 << i))


class Absence(Entity):
    """A time range when an agent is unavailable."""

    __tablename__ = "absence"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(String(200))


class Appointment(Entity):
    """A booked slot: type, place, agents, person, status."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("busy_until >= ends_at", name="busy_after_end"),
        Index("ix_appointment_territory_starts", "territory_id", "starts_at"),
        Index("ix_appointment_acting_organisation_starts", "acting_organisation_id", "starts_at"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"))
    # The structure on whose behalf the appointment is held (structure qui reçoit): its members
    # see and change it; other structures see an attending agent only as busy.
    acting_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    appointment_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointment_type.id"), index=True
    )
    place_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("place.id"), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    # The journey this appointment answers (booked from an invitation or for a journey).
    journey_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journey.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    busy_until: Mapped[datetime]  # ends_at + the type's buffer at booking time
    status: Mapped[AppointmentStatus] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    sequence: Mapped[int] = mapped_column(default=0)  # grows on every change (iCalendar SEQUENCE)
    created_by_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    # SHA-256 of (scope, client submission key): a repeated POST finds the first booking.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    attendees: Mapped[list[AppointmentAgent]] = relationship(
        back_populates="appointment",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="AppointmentAgent.role",
    )


class AppointmentAgent(Base):
    """One agent attending one appointment, holding [starts_at, busy_until) while active."""

    __tablename__ = "appointment_agent"
    __table_args__ = (
        CheckConstraint("busy_until > starts_at", name="busy_range"),
        Index("ix_appointment_agent_agent_starts", "agent_id", "starts_at"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"), primary_key=True)
    role: Mapped[AttendeeRole] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    busy_until: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)

    appointment: Mapped[Appointment] = relationship(back_populates="attendees")


class AppointmentDeparture(Base):
    """An agent taken off an appointment by a move (it went to another referent): their
    calendar feed keeps the appointment, at the time they had, as cancelled, so a subscribed
    calendar drops it instead of keeping a ghost. Gone when they attend it again."""

    __tablename__ = "appointment_departure"
    __table_args__ = (Index("ix_appointment_departure_agent_starts", "agent_id", "starts_at"),)

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    departed_at: Mapped[datetime]


class CalendarVersion(Base):
    """One row whose counter grows with every change to the shape of the calendars (agents,
    memberships, structures, territories) or whose territory is unknown (see
    db/calendar_version.py)."""

    __tablename__ = "calendar_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class CalendarChange(Base):
    """A territory's counters (db/calendar_version.py): ``version`` grows with every change
    that can alter its slots or the feeds about it, ``rules_version`` with those that can
    alter its opening hours. A territory has a row from its first change."""

    __tablename__ = "calendar_change"

    territory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    rules_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
