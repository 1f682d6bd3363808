"""The public pages a person reaches from an invitation link, without an account.

``/i/<token>`` exchanges the token for a browser session and redirects to ``/rdv``, so the
token never stays in the address bar, the history or a referrer. Unknown, expired, revoked
and closed links all get the very same 404 page. ``/rdv`` asks the first letters of the last
name before anything personal is shown (5 wrong answers lock the journey); passing it opens a
new session (the old id is dead). The booking, confirmation, cancel and move pages live in
``pages_booking`` and ``pages_appointment``; ``ROUTES`` gathers them all.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.deps import Uow
from rdv_spie.errors import NotFound
from rdv_spie.invitations import (
    identity,
    offer,
    pages_appointment,
    pages_booking,
    pages_file,
    paths,
    visit,
)
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications import tokens
from rdv_spie.people.contact import letters
from rdv_spie.settings import Settings
from rdv_spie.web import auth, ratelimit, sessions
from rdv_spie.web.auth import Person
from rdv_spie.web.models import SessionKind
from rdv_spie.web.pages import redirect, render
from rdv_spie.web.ratelimit import Limit

HOME = paths.HOME
FIELD = "lettres"


def client_ip(request: Request[Any, Any, Any]) -> str:
    """Who a rate limit counts: the client address (an IPv6 /64), never the token."""
    return ratelimit.client(request)


def _to_file(request: Request[Any, Any, Any]) -> bool:
    """Whether the person came for their file (``?suite=dossier``): /rdv then leads there."""
    return request.query_params.get(paths.NEXT) == paths.NEXT_FILE


def _home(request: Request[Any, Any, Any]) -> str:
    return f"{HOME}?{paths.NEXT}={paths.NEXT_FILE}" if _to_file(request) else HOME


def _invalid(request: Request[Any, Any, Any]) -> Response[Any]:
    return render(request, "invitation_invalid", {}, status=404)


@get(paths.LINK, include_in_schema=False)
async def open_invitation(
    request: Request[Any, Any, Any], token: FromPath[str], uow: Uow, state: State
) -> Response[Any]:
    """Exchange the link's token for a person session, then go to a URL without it."""
    settings: Settings = state.settings
    await state.rate_limiter.hit(
        "invitation_link",
        client_ip(request),
        Limit(settings.rate_limit_token_hits, settings.rate_limit_window_seconds),
    )
    now = uow.clock.now()
    invitation = None
    if 16 <= len(token) <= 64:
        invitation = await uow.session.scalar(
            select(Invitation).where(Invitation.token_hash == tokens.hash_token(token))
        )
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= now:
        return _invalid(request)
    try:
        await visit.load(uow, invitation.journey_id)
    except NotFound:
        return _invalid(request)
    invitation.opened_at = invitation.opened_at or now
    cookie, _ = await sessions.open_session(
        uow,
        settings,
        kind=SessionKind.PERSON,
        journey_id=invitation.journey_id,
        invitation_id=invitation.id,
        replaces=request.cookies.get(sessions.SESSION_COOKIE),
    )
    response = redirect(_home(request))
    sessions.set_cookie(response, request, settings, sessions.SESSION_COOKIE, cookie)
    return response


def locked_page(request: Request[Any, Any, Any], seen: visit.Visit) -> Response[Any]:
    """The link is locked after too many wrong answers: call the structure."""
    return render(request, "invitation_locked", seen.context(), status=403)


def check_page(
    request: Request[Any, Any, Any],
    seen: visit.Visit,
    *,
    error: str | None = None,
    tries_left: int | None = None,
    status: int = 200,
) -> Response[Any]:
    """Who invites and why, and the identity question; nothing personal."""
    context = {
        **seen.context(),
        "action": f"{paths.CHECK}?{paths.NEXT}={paths.NEXT_FILE}"
        if _to_file(request)
        else paths.CHECK,
        "field": FIELD,
        "error": error,
        "tries_left": tries_left,
    }
    return render(request, "invitation", context, status=status)


@get(HOME, include_in_schema=False)
async def home(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """The identity check, or (once passed) the appointment or the slots."""
    seen = await visit.for_visitor(uow, visitor)
    if seen.locked:
        return locked_page(request, seen)
    if not visitor.verified:
        return check_page(request, seen)
    if _to_file(request):
        return redirect(pages_file.FILE)
    if await visit.current_appointment(uow, seen) is not None:
        return redirect(offer.CONFIRMATION)
    return redirect(offer.BOOK.list_path)


@post(paths.CHECK, include_in_schema=False, status_code=200)
async def verify(request: Request[Any, Any, Any], uow: Uow, state: State) -> Response[Any]:
    """Check the answer; a right one opens a new, verified session."""
    settings: Settings = state.settings
    # Counted before the request's own transaction starts (SQLite: one writer at a time), so
    # the session is read after it, not as a dependency.
    await state.rate_limiter.hit(
        "identity_check",
        client_ip(request),
        Limit(settings.rate_limit_identity_hits, settings.rate_limit_window_seconds),
    )
    visitor = await auth.provide_visitor(request, uow, state)
    seen = await visit.for_visitor(uow, visitor)
    if seen.locked:
        return locked_page(request, seen)
    if visitor.verified:
        return redirect(_home(request))
    form = await request.form()
    given = str(form.get(FIELD) or "")[:100]
    if not letters(given):
        return check_page(request, seen, error="empty", status=422)
    person = await visit.person_of(uow, seen)
    outcome = await identity.answer(
        uow, seen.journey, person.last_name, given, max_tries=settings.identity_max_tries
    )
    if outcome.locked:
        response = locked_page(request, seen)
        sessions.clear_cookie(response, sessions.SESSION_COOKIE)
        return response
    if not outcome.passed:
        return check_page(request, seen, error="wrong", tries_left=outcome.tries_left, status=422)
    invitation_id = visitor.session.invitation_id
    cookie, _ = await sessions.open_session(
        uow,
        settings,
        kind=SessionKind.PERSON,
        journey_id=seen.journey.id,
        invitation_id=invitation_id,
        verified=True,
        replaces=visitor.token,
    )
    response = redirect(_home(request))
    sessions.set_cookie(response, request, settings, sessions.SESSION_COOKIE, cookie)
    return response


ROUTES: list[ControllerRouterHandler] = [
    open_invitation,
    home,
    verify,
    *pages_booking.ROUTES,
    *pages_appointment.ROUTES,
    *pages_file.ROUTES,
]
