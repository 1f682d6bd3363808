"""The journeys the territory team follows: per cohort with filters, a person's timeline,
inviting again and closing a journey.

Team pages (admins and animators of the organisation the agent acts for): anyone else gets
403. Journeys are scoped by the services (``journeys/listing.py``, ``people/closing.py``): a
journey the team does not see is the same 404 as an unknown one. A refused action shows the
person's page again with the reason (409 for the journey's state, 422 for the form), nothing
written.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, DomainError, Invalid, NotFound
from rdv_spie.invitations import again
from rdv_spie.journeys import listing, paths, timeline
from rdv_spie.people import closing, followup
from rdv_spie.people import service as people
from rdv_spie.people.status import JourneyStatus
from rdv_spie.scheduling import paths as scheduling_paths
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid, redirect

_DONE = frozenset({"relance", "cloture"})
REASONS = tuple(r.value for r in closing.CloseReason)


def journey_path(journey_id: uuid.UUID | str, template: str = paths.JOURNEY) -> str:
    """The path of a journey's page (or of one of its actions)."""
    return template.replace("{journey_id:uuid}", str(journey_id))


def _filters(params: Any) -> listing.Filters:
    """The list's filters from the query; a value that is not one of the choices is none."""
    status = params.get("statut") or ""
    referent = params.get("referent") or ""
    try:
        page = int(params.get("page") or 1)
    except ValueError:
        page = 1
    return listing.Filters(
        cohort_id=query_uuid(params.get("cohorte")),
        status=JourneyStatus(status) if status in set(JourneyStatus) else None,
        referent=listing.NO_REFERENT if referent == listing.NO_REFERENT else query_uuid(referent),
        q=(params.get("q") or "").strip()[:100],
        page=max(1, min(page, 100_000)),
    )


def list_path(filters: listing.Filters, page: int) -> str:
    """The list's URL at a page, its filters kept."""
    query = [
        ("cohorte", str(filters.cohort_id or "")),
        ("statut", filters.status.value if filters.status else ""),
        ("referent", str(filters.referent or "")),
        ("q", filters.q),
        ("page", str(page) if page > 1 else ""),
    ]
    kept = urlencode([(k, v) for k, v in query if v])
    return paths.JOURNEYS + (f"?{kept}" if kept else "")


@get(paths.JOURNEYS, include_in_schema=False)
async def journeys(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The journeys of the territory's cohorts: ?cohorte=&statut=&referent=&q=&page=."""
    office.require_team_role()
    actor = office.actor
    where = await ui.where(uow, actor)
    filters = _filters(request.query_params)
    found = await listing.journeys(uow, actor, filters, where.zone)
    context = {
        "filters": filters,
        "listing": found,
        "cohorts": await people.list_cohorts(uow=uow, actor=actor),
        "referents": await listing.referents(uow, actor),
        "statuses": list(JourneyStatus),
        "no_referent": listing.NO_REFERENT,
        "journey_path": journey_path,
        "previous": list_path(filters, found.page - 1) if found.page > 1 else None,
        "next": list_path(filters, found.page + 1) if found.page < found.pages else None,
        "first": list_path(filters, 1),
        "last": list_path(filters, found.pages),
        "filtered": bool(filters.cohort_id or filters.status or filters.referent or filters.q),
    }
    return ui.page(request, office, "journeys", "parcours", context)


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    journey_id: uuid.UUID,
    *,
    error: ui.Refusal | None = None,
    errors: ui.Refusals | None = None,
    chosen: str = "",
    status: int = 200,
) -> Response[str]:
    where = await ui.where(uow, office.actor)
    file = await timeline.read(uow, office.actor, journey_id, where.zone)
    fait = request.query_params.get("fait")
    try:  # the office booking is for the structures that follow the person
        await followup.visible_journey(uow, office.actor, journey_id)
        can_book = True
    except NotFound:
        can_book = False
    context = {
        "file": file,
        "error": error,
        "errors": (errors.by_key if errors else {}),
        "chosen": chosen,
        "reasons": REASONS,
        "done": fait if fait in _DONE and error is None and not errors else None,
        "invite_path": journey_path(journey_id, paths.JOURNEY_INVITE),
        "close_path": journey_path(journey_id, paths.JOURNEY_CLOSE),
        "list_path": paths.JOURNEYS,
        "booking_path": f"{scheduling_paths.BOOKING}?{urlencode({'parcours': str(journey_id)})}",
        "can_book": can_book,
    }
    return ui.page(request, office, "journey", "parcours", context, status=status)


@get(paths.JOURNEY, include_in_schema=False)
async def journey(
    request: Request[Any, Any, Any], uow: Uow, office: Office, journey_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A person's journey: identity, status, deadline and the timeline."""
    office.require_team_role()
    return await _page(request, uow, office, journey_id)


def _refused_status(exc: DomainError) -> int:
    return 409 if isinstance(exc, Conflict) else 422


@post(paths.JOURNEY_INVITE, include_in_schema=False, status_code=303)
async def invite(
    request: Request[Any, Any, Any], uow: Uow, office: Office, journey_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Invite the person again now (inside the cohort's sending window), back to their page."""
    office.require_team_role()
    await closing.team_journey(uow, office.actor, journey_id)  # a foreign one: 404 first
    secret_key: bytes = request.app.state.secret_key
    try:
        async with uow.session.begin_nested():
            await again.invite_again(uow, office.actor, journey_id, secret_key=secret_key)
    except (Conflict, Invalid) as exc:
        return await _page(
            request, uow, office, journey_id, error=ui.refusal(exc), status=_refused_status(exc)
        )
    return redirect(journey_path(journey_id) + "?fait=relance")


@post(paths.JOURNEY_CLOSE, include_in_schema=False, status_code=303)
async def close(
    request: Request[Any, Any, Any], uow: Uow, office: Office, journey_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Close the journey with a reason, back to the person's page."""
    office.require_team_role()
    await closing.team_journey(uow, office.actor, journey_id)
    form = await ui.Form.of(request)
    reason = form.get("raison")
    if reason not in REASONS:
        errors = ui.Refusals()
        errors.add(Invalid("choose a reason", field="raison", code="reason_missing"))
        return await _page(request, uow, office, journey_id, errors=errors, status=422)
    try:
        async with uow.session.begin_nested():
            await closing.close_journey(uow, office.actor, journey_id, reason)
    except (Conflict, Invalid) as exc:
        return await _page(
            request,
            uow,
            office,
            journey_id,
            error=ui.refusal(exc),
            chosen=reason,
            status=_refused_status(exc),
        )
    return redirect(journey_path(journey_id) + "?fait=cloture")


ROUTES: list[ControllerRouterHandler] = [journeys, journey, invite, close]
