"""HTTP shapes of the calendars room."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from rdv_spie.calendars.models import CalendarFeed, FeedKind


class FeedStatusOut(msgspec.Struct, kw_only=True):
    """Whether a subject has a working feed link (the link itself is shown only once)."""

    kind: FeedKind
    subject_id: uuid.UUID
    active: bool
    created_at: datetime | None = None
    expires_at: datetime | None = None

    @classmethod
    def of(cls, kind: FeedKind, subject_id: uuid.UUID, feed: CalendarFeed | None) -> FeedStatusOut:
        """From the current link, if any."""
        if feed is None:
            return cls(kind=kind, subject_id=subject_id, active=False)
        return cls(
            kind=kind,
            subject_id=subject_id,
            active=True,
            created_at=feed.created_at,
            expires_at=feed.expires_at,
        )


class FeedLinkOut(msgspec.Struct, kw_only=True):
    """A new feed link: shown in this answer only, never again."""

    kind: FeedKind
    subject_id: uuid.UUID
    url: str
    webcal_url: str
    created_at: datetime
    expires_at: datetime
