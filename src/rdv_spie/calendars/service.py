"""Feed links: issue (and so rotate), revoke, read, and find by token.

A token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is stored. Issuing
a link revokes the subject's active ones in the same transaction, so rotating is one call and a
subject never has two working links. Never logs or returns a token except from ``issue_feed``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rdv_spie.calendars.models import CalendarFeed, FeedKind
from rdv_spie.db import calendar_version
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Forbidden

_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    """A new link: ``token`` is never stored and never shown again."""

    feed: CalendarFeed
    token: str


@dataclass(frozen=True, slots=True)
class ActiveFeed:
    """What serving a feed needs to know about its link."""

    id: uuid.UUID
    kind: FeedKind
    subject_id: uuid.UUID
    # Read with the link (db/calendar_version.py): what the feed's cached body is valid for.
    calendar_version: tuple[int, int]


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """True when ``token`` has the shape of one this module issues (no database needed)."""
    return _TOKEN.fullmatch(token) is not None


def expiry(now: datetime, *, valid_days: int, programme_end_on: date | None) -> datetime:
    """When a link made now expires: after ``valid_days``, or at the programme's end."""
    expires = now + timedelta(days=valid_days)
    if programme_end_on is not None:
        end = datetime.combine(programme_end_on + timedelta(days=1), time(0), UTC)
        expires = min(expires, end)
    return expires


async def issue_feed(
    *,
    uow: UnitOfWork,
    kind: FeedKind,
    subject_id: uuid.UUID,
    created_by: uuid.UUID,
    valid_days: int,
    programme_end_on: date | None = None,
) -> IssuedFeed:
    """A new link for the subject; its previous links stop working in the same transaction."""
    now = uow.clock.now()
    expires_at = expiry(now, valid_days=valid_days, programme_end_on=programme_end_on)
    if expires_at <= now:
        raise Forbidden("the programme has ended: no new feed link", code="programme_ended")
    await uow.lock(f"calendar_feed:{kind}:{subject_id}")
    await revoke_feeds(uow=uow, kind=kind, subject_id=subject_id)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        kind=kind,
        subject_id=subject_id,
        token_hash=token_hash(token),
        created_by_agent_id=created_by,
        expires_at=expires_at,
        revoked_at=None,
    )
    uow.session.add(feed)
    await uow.session.flush()
    return IssuedFeed(feed=feed, token=token)


async def revoke_feeds(*, uow: UnitOfWork, kind: FeedKind, subject_id: uuid.UUID) -> int:
    """Revoke the subject's active links; how many there were."""
    now = uow.clock.now()
    result = await uow.session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.kind == kind,
            CalendarFeed.subject_id == subject_id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count: int = getattr(result, "rowcount", 0)
    return count


async def current_feed(
    *, uow: UnitOfWork, kind: FeedKind, subject_id: uuid.UUID
) -> CalendarFeed | None:
    """The subject's working link (not revoked, not expired), if any."""
    found: CalendarFeed | None = await uow.session.scalar(
        select(CalendarFeed)
        .where(
            CalendarFeed.kind == kind,
            CalendarFeed.subject_id == subject_id,
            CalendarFeed.revoked_at.is_(None),
            CalendarFeed.expires_at > uow.clock.now(),
        )
        .order_by(CalendarFeed.created_at.desc())
        .limit(1)
    )
    return found


# The one statement a poll costs: the link's facts and the calendar counter, together.
_FIND = select(
    CalendarFeed.id,
    CalendarFeed.kind,
    CalendarFeed.subject_id,
    CalendarFeed.expires_at,
    CalendarFeed.revoked_at,
    calendar_version.shape_version(),
    calendar_version.feed_version(CalendarFeed.subject_id),
).where(CalendarFeed.token_hash == bindparam("token_hash"))


async def find_active(conn: AsyncConnection, *, token: str, now: datetime) -> ActiveFeed | None:
    """The link behind a token, or None when unknown, revoked or expired (callers answer all
    three the same way). Takes a plain connection: polling is the hot path, and a session
    would double its cost."""
    if not looks_like_token(token):
        return None
    row = (await conn.execute(_FIND, {"token_hash": token_hash(token)})).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return ActiveFeed(
        id=row.id,
        kind=FeedKind(row.kind),
        subject_id=row.subject_id,
        calendar_version=(row[5], row[6]),
    )


FEED_MANAGERS = "only an admin or an animator of the territory can manage its feed"
