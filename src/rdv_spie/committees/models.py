"""Tables of the committees room (comités techniques opérationnels, CTO).

A series repeats by an RRULE in its territory's zone; each occurrence is a session, kept once
per rule date (``occurs_on``, like a RECURRENCE-ID) so generating again never duplicates one and
a moved session keeps its identity. A situation request belongs to one session at a time: the
freeze puts at most ``capacity`` of them on the agenda and carries the rest to the next one.
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
    String,
    UniqueConstraint,
    event,
    inspect,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from rdv_spie.db.base import Entity

DEFAULT_RRULE = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"


class Thematic(StrEnum):
    """The ten SPIE thematics (freins)."""

    LOGEMENT = "logement"
    ILLETTRISME_ILLECTRONISME = "illettrisme_illectronisme"
    SITUATION_FINANCIERE = "situation_financiere"
    SOCIABILISATION_REMOBILISATION = "sociabilisation_remobilisation"
    ACCES_AUX_DROITS = "acces_aux_droits"
    EMPLOI_FORMATION = "emploi_formation"
    CREATION_ENTREPRISE = "creation_entreprise"
    MOBILITE = "mobilite"
    GARDE_ENFANT = "garde_enfant"
    SANTE = "sante"


THEMATIC_LABELS: dict[str, str] = {
    Thematic.LOGEMENT: "Logement",
    Thematic.ILLETTRISME_ILLECTRONISME: "Illettrisme et illectronisme",
    Thematic.SITUATION_FINANCIERE: "Situation financière",
    Thematic.SOCIABILISATION_REMOBILISATION: "Sociabilisation et remobilisation",
    Thematic.ACCES_AUX_DROITS: "Accès aux droits",
    Thematic.EMPLOI_FORMATION: "Emploi et formation",
    Thematic.CREATION_ENTREPRISE: "Création d'entreprise",
    Thematic.MOBILITE: "Mobilité",
    Thematic.GARDE_ENFANT: "Garde d'enfant",
    Thematic.SANTE: "Santé",
}


class SessionStatus(StrEnum):
    """Where a session stands (frozen / dispatched are instants, not statuses)."""

    SCHEDULED = "scheduled"
    MOVED = "moved"
    CANCELLED = "cancelled"


class RequestStatus(StrEnum):
    """Where a situation request stands."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    ON_AGENDA = "on_agenda"
    CARRIED_OVER = "carried_over"  # waiting in a later session, keeping its submitted_at
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"


WAITING = (RequestStatus.SUBMITTED, RequestStatus.ACKNOWLEDGED, RequestStatus.CARRIED_OVER)


class CtoSeries(Entity):
    """A recurring committee of one territory."""

    __tablename__ = "cto_series"
    __table_args__ = (
        UniqueConstraint("territory_id", "name"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("place_id IS NOT NULL OR video_url IS NOT NULL", name="somewhere"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    # The structure that runs it: its name signs the e-mails.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(String(200), default=DEFAULT_RRULE)
    starts_on: Mapped[date]  # the rule's first date (DTSTART), local
    start_time: Mapped[time] = mapped_column(default=time(8, 30))
    duration_minutes: Mapped[int] = mapped_column(default=120)
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"))
    video_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(default=10)
    # Requests close this many days before, at this local time (Monday 14:00 for Thursday).
    deadline_days_before: Mapped[int] = mapped_column(default=3)
    deadline_time: Mapped[time] = mapped_column(default=time(14))
    # The agenda freezes at the start of D-3 (local), never before the deadline.
    freeze_days_before: Mapped[int] = mapped_column(default=3)
    # Members get the agenda at D-2, at this local time.
    dispatch_days_before: Mapped[int] = mapped_column(default=2)
    dispatch_time: Mapped[time] = mapped_column(default=time(9))
    active: Mapped[bool] = mapped_column(default=True)


class CtoMember(Entity):
    """A partner agent who sits on a series; receives agendas once the charter is accepted."""

    __tablename__ = "cto_member"
    __table_args__ = (UniqueConstraint("series_id", "agent_id"),)

    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cto_series.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"), index=True)
    charter_accepted_on: Mapped[date | None]
    # Which version of the confidentiality charter (templates/charters/) was accepted, and
    # when (online, or recorded by the team for a paper copy): a new version asks again.
    charter_version: Mapped[str | None] = mapped_column(String(32))
    charter_accepted_at: Mapped[datetime | None]


class CtoSession(Entity):
    """One occurrence of a series, with the instants that drive its cycle."""

    __tablename__ = "cto_session"
    __table_args__ = (
        UniqueConstraint("series_id", "occurs_on"),
        Index("ix_cto_session_territory_starts", "territory_id", "starts_at"),
        Index("ix_cto_session_freeze", "frozen_at", "freeze_at"),
    )

    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cto_series.id", ondelete="CASCADE"))
    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"))
    occurs_on: Mapped[date]  # the rule's local date: the session's identity, kept on a move
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    freeze_at: Mapped[datetime]
    dispatch_at: Mapped[datetime]
    status: Mapped[SessionStatus] = mapped_column(String(16), default=SessionStatus.SCHEDULED)
    sequence: Mapped[int] = mapped_column(default=0)  # grows when it moves or is cancelled
    # Why it last moved or was cancelled, as the team wrote it; told to the members.
    change_reason: Mapped[str | None] = mapped_column(String(500))
    # Grows whenever the count of its situations changes (a request comes, is withdrawn or
    # carried over; the flush listener below): feeds show that count, so their SEQUENCE adds this.
    agenda_revision: Mapped[int] = mapped_column(default=0)
    frozen_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]


class CtoRequest(Entity):
    """A referent's situation request (fiche de prescription) for a session."""

    __tablename__ = "cto_request"
    __table_args__ = (
        Index("ix_cto_request_session_status", "session_id", "status"),
        Index("ix_cto_request_territory_ack", "territory_id", "acknowledged_at"),
        CheckConstraint("consent", name="consent_given"),
        CheckConstraint("NOT urgent OR urgent_reason IS NOT NULL", name="urgent_reason"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cto_session.id"))
    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"))
    referent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"), index=True)
    # The requesting structure: what partners see instead of the person.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    journey_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journey.id"))
    thematics: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(2000))
    already_tried: Mapped[str | None] = mapped_column(String(2000))
    consent: Mapped[bool]
    # The sentence the person agreed to, as the referent's form showed it.
    consent_text: Mapped[str | None] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(default=False)
    urgent_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime]  # kept when carried over: first come, first served
    status: Mapped[RequestStatus] = mapped_column(String(16), default=RequestStatus.SUBMITTED)
    agenda_number: Mapped[int | None]  # its number on the frozen agenda
    carried_over_count: Mapped[int] = mapped_column(default=0)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    decision: Mapped[str | None] = mapped_column(String(4000))
    next_steps: Mapped[str | None] = mapped_column(String(1000))  # what the person is told
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))


@event.listens_for(Session, "before_flush")
def _note_agenda_changes(session: Session, _ctx: object, _instances: object) -> None:
    """Bump ``agenda_revision`` of every session whose count of situations this flush
    changes: a request added or deleted, withdrawn, or moved to another session. Every write
    path goes through here, so none can forget."""
    touched: set[uuid.UUID] = set()
    territories: set[uuid.UUID] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, CtoRequest) and obj.session_id is not None:
            touched.add(obj.session_id)
            territories.add(obj.territory_id)
    for obj in session.dirty:
        if not isinstance(obj, CtoRequest):
            continue
        territories.add(obj.territory_id)
        state = inspect(obj)
        moved = state.attrs.session_id.history
        if moved.has_changes():
            touched.update(s for s in (*moved.deleted, *moved.added) if s is not None)
        status = state.attrs.status.history
        if status.has_changes():
            before = [s for s in status.deleted if s is not None]
            was_counted = bool(before) and before[0] != RequestStatus.WITHDRAWN
            if was_counted != (obj.status != RequestStatus.WITHDRAWN):
                touched.add(obj.session_id)
    if touched:
        session.execute(
            update(CtoSession)
            .where(CtoSession.id.in_(touched))
            .values(agenda_revision=CtoSession.agenda_revision + 1)
            # A session is in its requests' territory (db/calendar_version.py).
            .execution_options(synchronize_session=False, calendar_territories=territories)
        )
