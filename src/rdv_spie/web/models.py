"""Tables of the web kit: browser sessions (stored hashed) and rate-limit counters.

Sessions live in the database, never in process memory, so any web process can serve any
request and a logout ends the session everywhere at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Base, Entity


class SessionKind(StrEnum):
    """Who a browser session belongs to."""

    PERSON = "person"  # opened from an invitation link
    AGENT = "agent"  # opened by a password login


class WebSession(Entity):
    """One browser session: the cookie holds a 256-bit token, the table its SHA-256."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[SessionKind] = mapped_column(String(16))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), index=True
    )
    journey_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE")
    )
    # Agent sessions: the organisation the agent acts for (chosen when they have several).
    acting_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None]  # person sessions: identity check passed
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # absolute timeout
    ended_at: Mapped[datetime | None]  # logout, rotation or lock


class RateCounter(Base):
    """Hits of one key in its current fixed window (used when Redis is not configured)."""

    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_started_at: Mapped[datetime]
    hits: Mapped[int]
