"""Tables of the calendars room: the secret links of subscribed calendar feeds.

Only the SHA-256 of a feed's token is kept: the link is shown once, when it is made, and a
database dump cannot be turned back into a working feed URL.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class FeedKind(StrEnum):
    """What a feed shows; ``subject_id`` names the agent, the territory or the CTO series it
    is about (for CTO_MEMBER, the membership)."""

    AGENT = "agent"  # the agent's appointments, people as initials only
    TERRITORY = "territory"  # the territory's appointments and CTO sessions, no personal data
    CTO_SERIES = "cto_series"  # a committee's sessions for its partners, no personal data
    # The same sessions, on a member's own link (subject: the cto_member row): removing the
    # member ends it, and a member's new link leaves the others' working.
    CTO_MEMBER = "cto_member"


class CalendarFeed(Entity):
    """One secret feed link: active while not revoked and not expired."""

    __tablename__ = "calendar_feed"
    __table_args__ = (Index("ix_calendar_feed_kind_subject", "kind", "subject_id"),)

    kind: Mapped[FeedKind] = mapped_column(String(16))
    # No foreign key: the subject's table depends on the kind (agent, territory, CTO series).
    subject_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
