"""The back-office sign-in: logging in and out (HTML, French words in
templates/pages/office_*).

Logging in always opens a new session and ends the one the browser had, so a session id
planted before login is worthless; logging out ends the session on the server, not only in
the browser. Never logs an e-mail address or a password.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from rdv_spie.agents import passwords
from rdv_spie.deps import Uow
from rdv_spie.settings import Settings
from rdv_spie.web import paths, ratelimit, sessions
from rdv_spie.web.auth import LOGIN_PATH, Member, Office, provide_office_user
from rdv_spie.web.models import SessionKind
from rdv_spie.web.office import Form, Refusal, page
from rdv_spie.web.pages import query_uuid, redirect, render

HOME = paths.OFFICE
# Codes office_messages.html turns into sentences.
BAD_LOGIN = "bad_login"
EMAIL_MISSING = "email_missing"
PASSWORD_MISSING = "password_missing"  # noqa: S105 (a message code)


def safe_next(value: str | None) -> str:
    """Where to go after login: a back-office path of this site, else the agenda."""
    if not value or not value.startswith(paths.OFFICE) or "\\" in value or value.startswith("//"):
        return HOME
    if value.startswith(LOGIN_PATH) or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return HOME  # a control character would split the Location header
    return value


def _login_page(
    request: Request[Any, Any, Any],
    *,
    suite: str,
    email: str = "",
    errors: dict[str, Refusal] | None = None,
    ended: bool = False,
    status: int = 200,
) -> Response[str]:
    context = {
        "suite": suite,
        "email": email,
        "errors": errors or {},
        "ended": ended,
        "active": None,
        "me": None,
    }
    return render(request, "office_login", context, status=status)


@get(LOGIN_PATH, include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any], suite: FromQuery[str | None] = None
) -> Response[str]:
    """The login form."""
    ended = request.query_params.get("fin") == "1"
    return _login_page(request, suite=safe_next(suite), ended=ended)


@post(LOGIN_PATH, include_in_schema=False, status_code=200)
async def login(request: Request[Any, Any, Any], uow: Uow) -> Response[Any]:
    """Check the password (rate-limited per address and per e-mail); a new session on success."""
    form = await request.form()
    email = str(form.get("email") or "").strip()[:254]
    password = str(form.get("password") or "")[:1024]
    suite = safe_next(str(form.get("suite") or ""))
    settings: Settings = request.app.state.settings
    limiter: ratelimit.RateLimiter = request.app.state.rate_limiter
    limit = ratelimit.Limit(settings.rate_limit_login_hits, settings.rate_limit_window_seconds)
    daily = ratelimit.Limit(settings.rate_limit_login_daily_failures, 86_400)
    # Counted before the request's own transaction starts (SQLite: one writer at a time).
    await limiter.hit("login-ip", ratelimit.client(request), limit)
    who = ratelimit.subject(request.app.state.secret_key, email)
    if email:  # only wrong passwords count per e-mail: a right one is never what locks it
        await limiter.check("login-email", who, limit)
        await limiter.check("login-email-day", who, daily)
    agent = await passwords.check_login(uow, email, password) if email and password else None
    if agent is None:
        if email:
            await uow.session.rollback()  # nothing written; frees SQLite's lock for the counter
            await limiter.hit("login-email", who, limit)
            await limiter.hit("login-email-day", who, daily)
        errors = {}
        if not email:
            errors["email"] = Refusal(EMAIL_MISSING, "email")
        if not password:
            errors["password"] = Refusal(PASSWORD_MISSING, "password")
        refused = errors or {"form": Refusal(BAD_LOGIN)}  # never says which of the two
        return _login_page(request, suite=suite, email=email, errors=refused, status=400)
    token, _ = await sessions.open_session(
        uow,
        settings,
        kind=SessionKind.AGENT,
        agent_id=agent.id,
        replaces=request.cookies.get(sessions.AGENT_COOKIE),
    )
    response: Redirect = redirect(suite)
    sessions.set_cookie(response, request, settings, sessions.AGENT_COOKIE, token)
    return response


@post(paths.LOGOUT, include_in_schema=False, status_code=303)
async def logout(request: Request[Any, Any, Any], uow: Uow) -> Redirect:
    """End the session on the server and in the browser."""
    await sessions.end_session(uow, request.cookies.get(sessions.AGENT_COOKIE))
    response = redirect(f"{LOGIN_PATH}?fin=1")
    sessions.clear_cookie(response, sessions.AGENT_COOKIE)
    return response


@get(HOME, include_in_schema=False)
async def home(request: Request[Any, Any, Any], uow: Uow, member: Member) -> Redirect:
    """The back office opens on the agenda (a referent's day), on the cohorts for the
    territory team, on the partners' portal for a partner."""
    if not member.staff:
        return redirect(paths.PORTAL)
    office = await provide_office_user(request, uow, request.app.state)
    return redirect(paths.COHORTS if office.manages else paths.AGENDA)


@get(paths.ACTING, include_in_schema=False)
async def acting_form(request: Request[Any, Any, Any], office: Office) -> Response[str]:
    """The organisations the agent works for, to choose which one they act for."""
    return page(
        request,
        office,
        "acting",
        None,
        {"suite": safe_next(request.query_params.get("suite")), "errors": {}},
    )


@post(paths.ACTING, include_in_schema=False, status_code=303)
async def choose_acting(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Act for another of the agent's organisations (kept in the browser session), then go
    back to the page they were on, or to the office's first page."""
    form = await Form.of(request)
    chosen = query_uuid(form.get("organisation_id"))
    if chosen is None or all(c.organisation_id != chosen for c in office.choices):
        context = {
            "suite": safe_next(form.get("suite")),
            "errors": {"organisation_id": Refusal("not_listed", "organisation_id")},
        }
        return page(request, office, "acting", None, context, status=422)
    office.session.acting_organisation_id = chosen
    return redirect(safe_next(form.get("suite")) if form.get("suite") else HOME)


ROUTES: list[ControllerRouterHandler] = [
    login_form,
    login,
    logout,
    home,
    acting_form,
    choose_acting,
]
