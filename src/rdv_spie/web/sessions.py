"""Browser sessions for the pages: opened, read, rotated and ended on the server.

A session is a 256-bit random token in an HttpOnly cookie; the database keeps its SHA-256,
when it was last seen (idle timeout) and when it ends regardless (absolute timeout). Logging
in or passing the identity check always opens a new session and ends the previous one, so a
session id planted before either step is worthless afterwards.

Never holds state in process memory and never logs a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request, Response
from sqlalchemy import delete, or_, select, update

from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.settings import Settings
from rdv_spie.web import paths
from rdv_spie.web.models import RateCounter, SessionKind, WebSession

SESSION_COOKIE = "rdv_session"  # a person's, opened from an invitation link
AGENT_COOKIE = "rdv_agent"  # an agent's: opening a link in the same browser leaves it alone
CSRF_COOKIE = "rdv_csrf"  # forms shown before any session exists (login)
CSRF_FIELD = "csrf_token"
_TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a session lives without a request, and at most."""

    idle: timedelta
    absolute: timedelta


def timeouts(settings: Settings, kind: SessionKind) -> Timeouts:
    """The configured timeouts of a kind of session."""
    if kind == SessionKind.AGENT:
        return Timeouts(
            timedelta(minutes=settings.agent_session_idle_minutes),
            timedelta(minutes=settings.agent_session_max_minutes),
        )
    return Timeouts(
        timedelta(minutes=settings.person_session_idle_minutes),
        timedelta(minutes=settings.person_session_max_minutes),
    )


def hash_token(token: str) -> str:
    """What the table keeps: SHA-256 of the cookie value, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    uow: UnitOfWork,
    settings: Settings,
    *,
    kind: SessionKind,
    agent_id: uuid.UUID | None = None,
    journey_id: uuid.UUID | None = None,
    invitation_id: uuid.UUID | None = None,
    verified: bool = False,
    replaces: str | None = None,
) -> tuple[str, WebSession]:
    """A new session (and its cookie value); ``replaces`` (an old cookie value) is ended."""
    now = uow.clock.now()
    if replaces:
        await end_session(uow, replaces)
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=hash_token(token),
        kind=kind,
        agent_id=agent_id,
        journey_id=journey_id,
        invitation_id=invitation_id,
        verified_at=now if verified else None,
        last_seen_at=now,
        expires_at=now + timeouts(settings, kind).absolute,
    )
    uow.session.add(row)
    await uow.session.flush()
    return token, row


async def current_session(
    uow: UnitOfWork, settings: Settings, token: str | None, kind: SessionKind
) -> WebSession | None:
    """The live session behind a cookie value, touched; None when absent, ended or timed out."""
    if not token or len(token) > 100:
        return None
    row = await uow.session.scalar(
        select(WebSession).where(WebSession.token_hash == hash_token(token))
    )
    now = uow.clock.now()
    if row is None or row.kind != kind or row.ended_at is not None:
        return None
    if row.expires_at <= now or row.last_seen_at + timeouts(settings, kind).idle <= now:
        row.ended_at = now
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row


async def end_session(uow: UnitOfWork, token: str | None) -> None:
    """End the session behind a cookie value (logout): refused everywhere from now on."""
    if not token or len(token) > 100:
        return
    await uow.session.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_token(token), WebSession.ended_at.is_(None))
        .values(ended_at=uow.clock.now(), updated_at=uow.clock.now())
    )


async def end_sessions_of(
    uow: UnitOfWork, *, journey_id: uuid.UUID | None = None, agent_id: uuid.UUID | None = None
) -> None:
    """End every session of a journey (its identity check just locked) or of an agent (their
    password changed)."""
    now = uow.clock.now()
    owner = WebSession.journey_id == journey_id if journey_id else WebSession.agent_id == agent_id
    if journey_id is None and agent_id is None:
        raise ValueError("whose sessions?")
    await uow.session.execute(
        update(WebSession)
        .where(owner, WebSession.ended_at.is_(None))
        .values(ended_at=now, updated_at=now)
    )


KEEP_ENDED = timedelta(days=7)
KEEP_COUNTERS = timedelta(days=1)


async def purge(db: Database, clock: Clock) -> int:
    """Delete sessions that ended or expired a week ago and stale rate counters (daily)."""
    now = clock.now()
    async with db.unit_of_work(clock=clock) as uow:
        ended = await uow.session.execute(
            delete(WebSession).where(
                or_(
                    WebSession.ended_at < now - KEEP_ENDED, WebSession.expires_at < now - KEEP_ENDED
                )
            )
        )
        stale = await uow.session.execute(
            delete(RateCounter).where(RateCounter.window_started_at < now - KEEP_COUNTERS)
        )
    return int(getattr(ended, "rowcount", 0) or 0) + int(getattr(stale, "rowcount", 0) or 0)


def _secure(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def set_cookie(
    response: Response[Any],
    request: Request[Any, Any, Any],
    settings: Settings,
    name: str,
    value: str,
) -> None:
    """An HttpOnly, SameSite=Lax cookie for the whole site; Secure over HTTPS (or when set).

    Lax, not Strict: a person arrives from a link in an SMS or e-mail client, and Strict would
    drop the cookie on the redirect that follows the token exchange.
    """
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        secure=_secure(request, settings),
        samesite="lax",
    )


def clear_cookie(response: Response[Any], name: str) -> None:
    """Tell the browser to forget a cookie."""
    response.delete_cookie(name, path="/")


def csrf_token(secret_key: bytes, binding: str) -> str:
    """The form token bound to a session (or pre-session) cookie value."""
    return hmac.new(secret_key, b"csrf\x00" + binding.encode(), hashlib.sha256).hexdigest()


def cookie_for(path: str) -> str:
    """The session cookie a page reads: the agent's under /agent, else the person's."""
    return AGENT_COOKIE if paths.in_office(path) else SESSION_COOKIE


def csrf_binding(request: Request[Any, Any, Any]) -> str | None:
    """The cookie value a form token is bound to: the page's session, else the pre-session
    one."""
    return request.cookies.get(cookie_for(request.url.path)) or request.cookies.get(CSRF_COOKIE)


def csrf_valid(secret_key: bytes, request: Request[Any, Any, Any], submitted: str | None) -> bool:
    """Whether a submitted form token matches the request's cookies."""
    binding = csrf_binding(request)
    if not binding or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret_key, binding), submitted)


def new_pre_session_value() -> str:
    """A random value for the pre-session CSRF cookie."""
    return secrets.token_urlsafe(24)


__all__ = [
    "AGENT_COOKIE",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SessionKind",
    "Timeouts",
    "WebSession",
    "clear_cookie",
    "cookie_for",
    "csrf_token",
    "csrf_valid",
    "current_session",
    "end_session",
    "end_sessions_of",
    "open_session",
    "set_cookie",
    "timeouts",
]
