"""Tables of the invitations room: one invitation per journey and channel.

The token is never stored: it is derived from the invitation id with the service's secret key
(``notifications/tokens.py``), and only its SHA-256 is kept for lookup, so neither the
database nor Redis nor a log ever holds a usable link.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class Channel(StrEnum):
    """How a message reaches someone."""

    SMS = "sms"
    EMAIL = "email"


class Invitation(Entity):
    """A link sent over one channel, valid until ``expires_at``."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("journey_id", "channel"),)

    journey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
