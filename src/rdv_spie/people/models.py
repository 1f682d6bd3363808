"""Tables of the people room: persons, cohorts and journeys (one person in one cohort).

A journey's status is never stored: ``status.py`` derives it from the facts kept here (entry,
deadlines, invitation, appointments, closing).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity

MONDAY_TO_SATURDAY = 0b0111111


class Person(Entity):
    """Someone followed by the SPIE (usager): only what invitations and booking need."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("territory_id", "caf_number"),
        UniqueConstraint("territory_id", "france_travail_id"),
        UniqueConstraint("territory_id", "departement_id"),
        Index("ix_person_territory_email", "territory_id", "email"),
        Index("ix_person_territory_phone", "territory_id", "phone"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_on: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    caf_number: Mapped[str | None] = mapped_column(String(50))
    france_travail_id: Mapped[str | None] = mapped_column(String(50))
    departement_id: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str | None] = mapped_column(String(10))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    email_consent: Mapped[bool] = mapped_column(default=False)
    prefers_call: Mapped[bool] = mapped_column(default=False)
    purged_at: Mapped[datetime | None]  # personal data erased (privacy/retention.py)


class Cohort(Entity):
    """A public followed on a territory: its entry delay, first appointment type and how it is
    invited (who writes, sending window, validity, reminders, alerts)."""

    __tablename__ = "cohort"
    __table_args__ = (
        UniqueConstraint("territory_id", "name"),
        CheckConstraint("entry_delay_days > 0", name="delay_positive"),
        CheckConstraint("invitation_valid_days > 0", name="validity_positive"),
        CheckConstraint("send_window_end > send_window_start", name="window_order"),
        CheckConstraint("send_weekdays > 0 AND send_weekdays < 128", name="weekdays_mask"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    entry_delay_days: Mapped[int] = mapped_column(default=30)
    appointment_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointment_type.id"))
    # The structure that writes to the people of this cohort (its name and phone in messages).
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    invite_within_days: Mapped[int] = mapped_column(default=3)
    invitation_valid_days: Mapped[int] = mapped_column(default=10)
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [3, 7])
    deadline_alert_days: Mapped[int] = mapped_column(default=7)
    send_window_start: Mapped[time] = mapped_column(default=time(9))
    send_window_end: Mapped[time] = mapped_column(default=time(19))
    send_weekdays: Mapped[int] = mapped_column(default=MONDAY_TO_SATURDAY)
    active: Mapped[bool] = mapped_column(default=True)


class Journey(Entity):
    """One person in one cohort from an entry date: the unit the entry-delay promise counts."""

    __tablename__ = "journey"
    __table_args__ = (
        UniqueConstraint("person_id", "cohort_id", "entered_on"),
        Index("ix_journey_cohort_entered", "cohort_id", "entered_on"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohort.id"))
    referent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"), index=True)
    entered_on: Mapped[date]
    # The promise is fixed when the journey opens, even if the cohort's delay changes later.
    invite_by_on: Mapped[date]
    appointment_by_on: Mapped[date]
    invited_at: Mapped[datetime | None]  # the first invitation message left
    waiting_for_slots_since: Mapped[datetime | None]
    deadline_alerted_at: Mapped[datetime | None]  # the referent was told the deadline is near
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(50))
    # The light identity check on the public pages: wrong answers, then a lock.
    identity_failures: Mapped[int] = mapped_column(default=0)
    identity_locked_at: Mapped[datetime | None]


class ImportState(StrEnum):
    """Where an upload stands: read and shown (nothing written), waiting for a worker,
    being written batch by batch, finished, or refused whole."""

    PREVIEWED = "previewed"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportRun(Entity):
    """One upload of a file of people into a cohort, from its preview to its summary: who,
    when, the file's name, the column mapping chosen, the counts, the rejected rows (line,
    column and reason only: never a cell's content). The file itself is kept only until it
    has been imported (``content`` is then emptied); the counts are written in the same
    transaction as each batch, so a worker that dies resumes where the last batch ended."""

    __tablename__ = "import_run"

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohort.id"), index=True)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_kind: Mapped[str] = mapped_column(String(8))  # csv, xlsx, ods, xls
    file_size: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # header → field
    state: Mapped[ImportState] = mapped_column(String(16), default=ImportState.PREVIEWED)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    error_code: Mapped[str | None] = mapped_column(String(50))
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]  # a worker's lease; a dead worker's run is taken again
