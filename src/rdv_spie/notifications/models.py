"""The outbox: one row per message to one recipient over one channel.

Rows are written in the transaction of the change that causes them and sent later by the
worker (or the web process's in-process runner). ``idempotency_key`` makes a message exist at
most once; the status only moves forward (see ``outbox.RANK``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class NotificationStatus(StrEnum):
    """Where a message is."""

    PENDING = "pending"  # waiting for its time, or for a retry
    SENDING = "sending"  # claimed by a worker (lease_until says until when)
    UNKNOWN = "unknown"  # the provider may have it; its status callback settles it
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"  # the provider confirmed delivery (SMS)
    FAILED = "failed"  # will not be delivered; shown to the referent
    CANCELLED = "cancelled"  # no longer relevant (booked, moved, cancelled) before it left


class Notification(Entity):
    """One message, its schedule, its attempts and its outcome."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (agent_id IS NULL)", name="one_recipient"),
        Index("ix_notification_status_not_before", "status", "not_before"),
    )

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))  # the template's name
    channel: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"), index=True)
    journey_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE")
    )
    # Numbers and ids only (sequence, reminder number, journey ids): never personal data.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[NotificationStatus] = mapped_column(
        String(16), default=NotificationStatus.PENDING
    )
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(120), index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    # Set just before the provider is called: a crash before it is safe to retry, a crash
    # after it leaves the outcome unknown.
    handed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
