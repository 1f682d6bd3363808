"""Choosing one's password from the e-mailed link, without being logged in.

``?jeton=`` is checked, then traded for a short-lived signed cookie naming the link (never the
token nor its hash) and the browser goes to the same page without the token, so it stays in
neither the address bar, the history nor a Referer. The form takes the new password twice;
the link is spent (agents/setup_links.use, single use even against a race) and the agent's
open sessions end. An unknown, expired or used link gets one and the same page. Opening links
and posting the form are rate-limited per address, like the login.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import messages, paths
from rdv_spie.agents import setup_links
from rdv_spie.agents.models import Agent, SetupLink
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Expired, Invalid
from rdv_spie.settings import Settings
from rdv_spie.web import ratelimit, sessions
from rdv_spie.web.office import Refusal, Refusals
from rdv_spie.web.pages import redirect, render

PATH = paths.PASSWORD_SETUP
COOKIE = "rdv_setup"
COOKIE_LIFETIME = timedelta(minutes=30)  # to fill in the form once the link is opened


def cookie_value(secret_key: bytes, link_id: uuid.UUID, now: datetime) -> str:
    """The signed cookie that stands for an opened link until ``now`` + 30 minutes."""
    until = int((now + COOKIE_LIFETIME).timestamp())
    return f"{link_id}.{until}.{_mac(secret_key, link_id, until)}"


def _mac(secret_key: bytes, link_id: uuid.UUID, until: int) -> str:
    message = b"agent-setup-cookie\x00" + link_id.bytes + str(until).encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()


def _cookie_link(secret_key: bytes, value: str | None, now: datetime) -> uuid.UUID | None:
    """The link a cookie stands for, while its signature holds and it has not run out."""
    if not value or len(value) > 200:
        return None
    try:
        raw_id, raw_until, mac = value.split(".")
        link_id, until = uuid.UUID(raw_id), int(raw_until)
    except ValueError:
        return None
    if not hmac.compare_digest(_mac(secret_key, link_id, until), mac):
        return None
    return link_id if now.timestamp() < until else None


async def _opened(
    request: Request[Any, Any, Any], uow: UnitOfWork
) -> tuple[SetupLink, Agent] | None:
    link_id = _cookie_link(
        request.app.state.secret_key, request.cookies.get(COOKIE), uow.clock.now()
    )
    link = await setup_links.live(uow, link_id) if link_id is not None else None
    agent = await uow.session.get(Agent, link.agent_id) if link is not None else None
    return (link, agent) if link is not None and agent is not None else None


def _page(
    request: Request[Any, Any, Any], name: str, context: dict[str, Any], *, status: int = 200
) -> Response[str]:
    return render(
        request,
        f"office_{name}",
        {"active": None, "me": None, "setup_path": PATH, **context},
        status=status,
    )


def _invalid(request: Request[Any, Any, Any]) -> Response[str]:
    """The one page of every link that does not work (unknown, expired, used, replaced)."""
    response = _page(request, "password_invalid", {}, status=404)
    sessions.clear_cookie(response, COOKIE)
    return response


def _form(
    request: Request[Any, Any, Any],
    agent: Agent,
    *,
    errors: dict[str, Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    return _page(request, "password", {"email": agent.email, "errors": errors or {}}, status=status)


async def _hit(request: Request[Any, Any, Any], purpose: str, hits: int) -> None:
    settings: Settings = request.app.state.settings
    limiter: ratelimit.RateLimiter = request.app.state.rate_limiter
    limit = ratelimit.Limit(hits, settings.rate_limit_window_seconds)
    await limiter.hit(purpose, ratelimit.client(request), limit)


@get(PATH, include_in_schema=False)
async def password_setup(request: Request[Any, Any, Any], uow: Uow) -> Response[Any]:
    """With ``?jeton=``: check it and go on without it; else the form of the opened link."""
    settings: Settings = request.app.state.settings
    token = request.query_params.get(messages.TOKEN_PARAM)
    if token is not None:
        # Counted before the request's own transaction starts (SQLite: one writer at a time).
        await _hit(request, "setup-link", settings.rate_limit_token_hits)
        link = await setup_links.find(uow, token)
        if link is None:
            return _invalid(request)
        response = redirect(PATH)
        value = cookie_value(request.app.state.secret_key, link.id, uow.clock.now())
        sessions.set_cookie(response, request, settings, COOKIE, value)
        return response
    opened = await _opened(request, uow)
    if opened is None:
        return _invalid(request)
    return _form(request, opened[1])


@post(PATH, include_in_schema=False, status_code=200)
async def choose_password(request: Request[Any, Any, Any], uow: Uow) -> Response[Any]:
    """Set the password (twice the same, the rules of setup_links.check_password); the link is
    spent and every open session of the agent ends."""
    settings: Settings = request.app.state.settings
    await _hit(request, "setup-password", settings.rate_limit_login_hits)
    opened = await _opened(request, uow)
    if opened is None:
        return _invalid(request)
    link, agent = opened
    form = await request.form()
    password = str(form.get("password") or "")
    again = str(form.get("password_confirm") or "")
    errors = Refusals()
    if not password:
        errors.add(Invalid("required", field="password", code="new_password_missing"))
    elif password != again:
        errors.add(Invalid("not the same", field="password_confirm", code="password_mismatch"))
    else:
        try:
            await setup_links.use(uow, link_id=link.id, password=password)
        except Invalid as exc:
            errors.add(exc)
        except Expired:
            return _invalid(request)
    if errors:
        return _form(request, agent, errors=errors.by_key, status=422)
    await sessions.end_sessions_of(uow, agent_id=agent.id)
    response = _page(request, "password_done", {"email": agent.email})
    sessions.clear_cookie(response, COOKIE)
    return response


ROUTES: list[ControllerRouterHandler] = [password_setup, choose_password]
