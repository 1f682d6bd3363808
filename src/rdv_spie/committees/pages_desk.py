"""The SPIE team's desk: the queue of requests to acknowledge on the 72 h clock, the sessions
with their agenda, moving or cancelling one, and recording decisions.

The territory team only (``office.require_team_role()``), then the API's own services and
guards (requests.acknowledge and decide, sessions.move_session and cancel_session,
``require_territory_manager``): a session or request of another territory is the same 404 as
an unknown one. Reads of fiches go through the API's services, which write the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

import structlog
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.committees import access, desk, paths, requests, sessions
from rdv_spie.committees.models import RequestStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

_log = structlog.get_logger(__name__)
T = TypeVar("T")

_DONE = frozenset({"accuse", "seance-deplacee", "seance-annulee", "decision"})
REASON_MAX = sessions.REASON_MAX
DECISION_MAX = 4000
NEXT_STEPS_MAX = 1000


def url(path: str, **ids: object) -> str:
    """A path with its ``{name:uuid}`` placeholders filled in."""
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


def _done(request: Request[Any, Any, Any]) -> str | None:
    fait = request.query_params.get("fait")
    return fait if fait in _DONE else None


async def _attempt(uow: UnitOfWork, refusals: ui.Refusals, call: Awaitable[T]) -> T | None:
    """A service call in a savepoint: what it refuses (Invalid, Conflict) is kept for the page
    and everything it changed is undone; NotFound and Forbidden go on to the error page."""
    try:
        async with uow.session.begin_nested():
            return await call
    except (Invalid, Conflict) as exc:
        refusals.add(exc)
        return None


def _text(
    refusals: ui.Refusals, value: str, field: str, limit: int, *, required: bool
) -> str | None:
    if not value:
        if required:
            refusals.add(Invalid("a value is required", field=field, code="value_missing"))
        return None
    if len(value) > limit:
        refusals.add(Invalid("too long", field=field, code="text_too_long"))
        return None
    return value


@get(paths.COMMITTEES, include_in_schema=False)
async def committees(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The queue to acknowledge and the sessions of the territory's series."""
    office.require_team_role()
    territory_id = office.acting.territory_id
    where = await ui.where_of(uow, office.actor, territory_id)
    context = {
        "committee": paths,
        "url": url,
        "where": where,
        "queue": await desk.queue(uow, office.actor, territory_id),
        "series_list": await desk.sessions(uow, office.actor, territory_id),
        "done": _done(request),
    }
    return ui.page(request, office, "desk", "comites", context)


@post(paths.ACKNOWLEDGE, include_in_schema=False, status_code=303)
async def acknowledge(uow: Uow, office: Office, request_id: FromPath[uuid.UUID]) -> Response[Any]:
    """Acknowledge a request in one action (the referent is e-mailed, once)."""
    office.require_team_role()
    await requests.acknowledge(uow=uow, actor=office.actor, request_id=request_id)
    return redirect(f"{paths.COMMITTEES}?fait=accuse")


async def _session_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    session_id: uuid.UUID,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    agenda = await desk.agenda(uow, office.actor, session_id)
    where = await ui.where_of(uow, office.actor, agenda.session.territory_id)
    now = uow.clock.now()
    context = {
        "committee": paths,
        "url": url,
        "where": where,
        "agenda": agenda,
        "held": desk.held(agenda.session, now),
        "decidable": (RequestStatus.ON_AGENDA, RequestStatus.DECIDED),
        "changeable": agenda.state != "cancelled" and agenda.session.starts_at > now,
        "form": form,  # which form was refused: "move", "cancel" or a request's id
        "values": values or {},
        "errors": errors or {},
        "done": _done(request),
    }
    return ui.page(request, office, "session", "comites", context, status=status)


@get(paths.SESSION, include_in_schema=False)
async def session(
    request: Request[Any, Any, Any], uow: Uow, office: Office, session_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A session's agenda: the candidates in the freeze's order, or the frozen list."""
    office.require_team_role()
    return await _session_page(request, uow, office, session_id)


@post(paths.SESSION_MOVE, include_in_schema=False, status_code=303)
async def move(
    request: Request[Any, Any, Any], uow: Uow, office: Office, session_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Move a session to a new date and time, with the reason; its members are told."""
    office.require_team_role()
    found = await access.session_for(uow, office.actor, session_id)
    where = await ui.where_of(uow, office.actor, found.territory_id)
    form = await ui.Form.of(request)
    refusals = ui.Refusals()
    starts_at = refusals.take(ui.parse_local, form.get("starts_at"), "starts_at", where.zone)
    reason = _text(refusals, form.get("reason"), "move_reason", REASON_MAX, required=True)
    if not refusals and starts_at is not None:
        await _attempt(
            uow,
            refusals,
            sessions.move_session(
                uow=uow,
                actor=office.actor,
                session_id=session_id,
                starts_at=starts_at,
                reason=reason,
            ),
        )
    if refusals:
        return await _session_page(
            request,
            uow,
            office,
            session_id,
            form="move",
            values=form.values(),
            errors=refusals.by_key,
            status=422,
        )
    _log.info("cto_session_moved", session_id=str(session_id))
    return redirect(url(paths.SESSION, session_id=session_id) + "?fait=seance-deplacee")


@post(paths.SESSION_CANCEL, include_in_schema=False, status_code=303)
async def cancel(
    request: Request[Any, Any, Any], uow: Uow, office: Office, session_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Cancel a session, with the reason: its requests go to the next one, members told."""
    office.require_team_role()
    await access.session_for(uow, office.actor, session_id)
    form = await ui.Form.of(request)
    refusals = ui.Refusals()
    reason = _text(refusals, form.get("reason"), "cancel_reason", REASON_MAX, required=True)
    if not refusals:
        await _attempt(
            uow,
            refusals,
            sessions.cancel_session(
                uow=uow, actor=office.actor, session_id=session_id, reason=reason
            ),
        )
    if refusals:
        return await _session_page(
            request,
            uow,
            office,
            session_id,
            form="cancel",
            values=form.values(),
            errors=refusals.by_key,
            status=422,
        )
    _log.info("cto_session_cancelled", session_id=str(session_id))
    return redirect(url(paths.SESSION, session_id=session_id) + "?fait=seance-annulee")


@post(paths.DECISION, include_in_schema=False, status_code=303)
async def decision(
    request: Request[Any, Any, Any], uow: Uow, office: Office, request_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Record a request's decision and what the person is told, once the session started."""
    office.require_team_role()
    found = await access.request_for(uow, office.actor, request_id)
    session_id = found.session_id
    form = await ui.Form.of(request)
    refusals = ui.Refusals(prefix=f"{request_id}-")
    text = _text(refusals, form.get("decision"), "decision", DECISION_MAX, required=True)
    steps = _text(refusals, form.get("next_steps"), "next_steps", NEXT_STEPS_MAX, required=False)
    if not refusals and text is not None:
        await _attempt(
            uow,
            refusals,
            requests.decide(
                uow=uow,
                actor=office.actor,
                request_id=request_id,
                decision=text,
                next_steps=steps,
            ),
        )
    if refusals:
        return await _session_page(
            request,
            uow,
            office,
            session_id,
            form=str(request_id),
            values=form.values(),
            errors=refusals.by_key,
            status=422,
        )
    target = url(paths.SESSION, session_id=session_id)
    return redirect(f"{target}?fait=decision#demande-{request_id}")


ROUTES: list[ControllerRouterHandler] = [
    committees,
    acknowledge,
    session,
    move,
    cancel,
    decision,
]
