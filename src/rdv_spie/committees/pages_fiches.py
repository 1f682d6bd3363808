"""A referent's fiches: the request form for a person they follow, editing or withdrawing it
until the deadline, and the list of their requests with their status and decision.

Every page calls the API's services and guards (requests.submit, edit, withdraw,
list_requests; access.request_for; followup.visible_journey and open_journeys): a fiche is
its structure's staff's only (another structure's is the same 404 as an unknown one), a
journey must be one the structure follows. A refused form comes back (422) with its errors
in French and nothing written (each service call runs in a savepoint).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.committees import access, paths, requests
from rdv_spie.committees.cycle import next_session
from rdv_spie.committees.models import (
    WAITING,
    CtoRequest,
    CtoSeries,
    CtoSession,
    SessionStatus,
    Thematic,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.people import followup
from rdv_spie.people.models import Person
from rdv_spie.templating.render import Renderer
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

T = TypeVar("T")

WORDS = "pages/office_fiche_words.html"
SUMMARY_MAX = 2000
REASON_MAX = 500
OPEN_SESSIONS = 8
_DONE = frozenset({"fiche-envoyee", "fiche-modifiee", "fiche-retiree"})


def url(path: str, **ids: object) -> str:
    """A path with its ``{name:uuid}`` placeholders filled in."""
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


@dataclass(frozen=True, slots=True)
class Choice:
    """A session a fiche can go to, with its series' name."""

    session: CtoSession
    series: str


@dataclass(frozen=True, slots=True)
class Late:
    """A session whose deadline passed, and the next one still open (None when none is)."""

    closed: CtoSession
    next: CtoSession | None


@dataclass(frozen=True, slots=True)
class Row:
    """One fiche of the list."""

    request: CtoRequest
    person: Person
    session: CtoSession


async def _attempt(uow: UnitOfWork, refusals: ui.Refusals, call: Awaitable[T]) -> T | None:
    """A service call in a savepoint: a refusal is kept for the page, nothing stays written."""
    try:
        async with uow.session.begin_nested():
            return await call
    except (Invalid, Conflict) as exc:
        refusals.add(exc)
        return None


def _is_open(session: CtoSession, uow: UnitOfWork) -> bool:
    return (
        session.status != SessionStatus.CANCELLED
        and session.frozen_at is None
        and uow.clock.now() < session.deadline_at
    )


async def _open_sessions(uow: UnitOfWork, territory_id: uuid.UUID) -> list[Choice]:
    """The territory's sessions still taking fiches, soonest first."""
    rows = await uow.session.execute(
        select(CtoSession, CtoSeries.name)
        .join(CtoSeries, CtoSeries.id == CtoSession.series_id)
        .where(
            CtoSession.territory_id == territory_id,
            CtoSession.status != SessionStatus.CANCELLED,
            CtoSession.frozen_at.is_(None),
            CtoSession.deadline_at > uow.clock.now(),
        )
        .order_by(CtoSession.starts_at, CtoSession.id)
        .limit(OPEN_SESSIONS)
    )
    return [Choice(s, name) for s, name in rows]


async def _late(uow: UnitOfWork, session_id: uuid.UUID) -> Late | None:
    """The closed session and the next one of its series open to fiches (as the API's 409
    names it), or None when the session still takes fiches."""
    session = await uow.session.get(CtoSession, session_id)
    if session is None or _is_open(session, uow):
        return None
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    after = await next_session(uow, series, session)
    while after is not None and after.deadline_at <= uow.clock.now():
        after = await next_session(uow, series, after)
    return Late(session, after)


def _done(request: Request[Any, Any, Any]) -> str | None:
    fait = request.query_params.get("fait")
    return fait if fait in _DONE else None


def _fields(form: ui.Form, refusals: ui.Refusals) -> dict[str, Any]:
    """The fiche's fields from the form, each refusal kept under its field."""
    thematics = form.getall("thematics")
    if not thematics or any(t not in set(Thematic) for t in thematics):
        refusals.add(Invalid("choose thematics", field="thematics", code="fiche_thematics"))
    summary = form.get("summary")
    if not summary or len(summary) > SUMMARY_MAX:
        refusals.add(Invalid("summary", field="summary", code="fiche_summary"))
    tried = form.get("already_tried")
    if len(tried) > SUMMARY_MAX:
        refusals.add(Invalid("too long", field="already_tried", code="fiche_tried"))
    urgent = form.get("urgent") == "oui"
    reason = form.get("urgent_reason")
    if urgent and not reason:
        refusals.add(Invalid("why urgent", field="urgent_reason", code="fiche_urgent_reason"))
    if len(reason) > REASON_MAX:
        refusals.add(Invalid("too long", field="urgent_reason", code="fiche_reason_long"))
    return {
        "thematics": thematics,
        "summary": summary,
        "already_tried": tried or None,
        "urgent": urgent,
        "urgent_reason": (reason or None) if urgent else None,
    }


# ---- the list


@get(paths.FICHES, include_in_schema=False)
async def fiches(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The structure's fiches with their status, session and decision; a search among the
    people the agent follows to start a new one."""
    where = await ui.where_of(uow, office.actor, office.acting.territory_id)
    found = await requests.list_requests(uow=uow, actor=office.actor, session_id=None, status=None)
    mine = [r for r in found if r.organisation_id in office.actor.staff_organisation_ids]
    people_of = {
        p.id: p
        for p in await uow.session.scalars(
            select(Person).where(Person.id.in_({r.person_id for r in mine}))
        )
    }
    sessions_of = {
        s.id: s
        for s in await uow.session.scalars(
            select(CtoSession).where(CtoSession.id.in_({r.session_id for r in mine}))
        )
    }
    rows = [Row(r, people_of[r.person_id], sessions_of[r.session_id]) for r in reversed(mine)]
    name = request.query_params.get("nom", "").strip()[:100]
    searched = "nom" in request.query_params
    people = await followup.open_journeys(uow, office.actor, name) if searched else []
    context = {
        "committee": paths,
        "url": url,
        "where": where,
        "rows": rows,
        "name": name,
        "searched": searched,
        "people": people,
        "done": _done(request),
    }
    return ui.page(request, office, "fiches", "fiches", context)


# ---- a new fiche


async def _new_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    journey_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, ui.Refusal] | None = None,
    late: Late | None = None,
    status: int = 200,
) -> Response[str]:
    followed = await followup.visible_journey(uow, office.actor, journey_id)
    where = await ui.where_of(uow, office.actor, followed.journey.territory_id)
    choices = await _open_sessions(uow, followed.journey.territory_id)
    wanted = request.query_params.get("seance")
    if late is None and wanted and not errors:
        try:
            late = await _late(uow, uuid.UUID(wanted))
        except ValueError:
            late = None
        if late is not None and late.closed.territory_id != followed.journey.territory_id:
            late = None
        if late is not None:
            status = 422
    context = {
        "committee": paths,
        "url": url,
        "where": where,
        "followed": followed,
        "open_sessions": choices,
        "thematics": list(Thematic),
        "values": values or {},
        "errors": errors or {},
        "late": late,
    }
    return ui.page(request, office, "fiche_new", "fiches", context, status=status)


def _journey(request: Request[Any, Any, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(request.query_params.get("parcours", ""))
    except ValueError:
        raise NotFound("journey not found", field="journey_id") from None


@get(paths.FICHE_NEW, include_in_schema=False)
async def fiche_new(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The form for a person the structure follows, for the next open session."""
    return await _new_page(request, uow, office, _journey(request))


@post(paths.FICHE_NEW, include_in_schema=False, status_code=303)
async def fiche_submit(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Send the fiche through the API's submit (its guards, its deadline)."""
    journey_id = _journey(request)
    followed = await followup.visible_journey(uow, office.actor, journey_id)
    form = await ui.Form.of(request)
    refusals = ui.Refusals()
    session_id = refusals.take(ui.parse_uuid, form.get("session_id"), "session_id")
    values = _fields(form, refusals)
    if form.get("consent") != "oui":
        refusals.add(Invalid("consent", field="consent", code="fiche_consent"))
    late = None
    if session_id is not None:
        await access.session_for(uow, office.actor, session_id)
        late = await _late(uow, session_id)
        if late is not None:
            refusals.add(Conflict("late", field="session_id", code="deadline_passed"))
    created = None
    if not refusals and session_id is not None:
        renderer: Renderer = request.app.state.renderer
        values |= {
            "session_id": session_id,
            "journey_id": followed.journey.id,
            "person_id": followed.person.id,
            "organisation_id": office.acting.organisation_id,
            "consent": True,
            "consent_text": renderer.macro(WORDS, "consent").strip(),
        }
        created = await _attempt(
            uow, refusals, requests.submit(uow=uow, actor=office.actor, values=values)
        )
        if created is None and session_id is not None:
            late = await _late(uow, session_id)
    if created is None:
        return await _new_page(
            request,
            uow,
            office,
            journey_id,
            values={**form.values(), "thematics": form.getall("thematics")},
            errors=refusals.by_key,
            late=late,
            status=422,
        )
    return redirect(url(paths.FICHE, request_id=created.id) + "?fait=fiche-envoyee")


# ---- one fiche


async def _mine(uow: UnitOfWork, office: OfficeUser, request_id: uuid.UUID) -> CtoRequest:
    """A fiche of the agent's structures (the team reads others' at the desk): else 404."""
    found = await access.request_for(uow, office.actor, request_id)
    if found.organisation_id not in office.actor.staff_organisation_ids:
        raise NotFound("situation request not found", field="request_id")
    return found


async def _fiche_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    request_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    fiche = await _mine(uow, office, request_id)
    session = await uow.session.get(CtoSession, fiche.session_id)
    person = await uow.session.get(Person, fiche.person_id)
    assert session is not None and person is not None
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    where = await ui.where_of(uow, office.actor, fiche.territory_id)
    editable = fiche.status in WAITING and _is_open(session, uow)
    shown = values or {
        "thematics": list(fiche.thematics),
        "summary": fiche.summary,
        "already_tried": fiche.already_tried or "",
        "urgent": "oui" if fiche.urgent else "",
        "urgent_reason": fiche.urgent_reason or "",
    }
    context = {
        "committee": paths,
        "url": url,
        "where": where,
        "fiche": fiche,
        "person": person,
        "session": session,
        "series": series,
        "editable": editable,
        "waiting": fiche.status in WAITING,
        "thematics": list(Thematic),
        "values": shown,
        "errors": errors or {},
        "done": _done(request),
    }
    return ui.page(request, office, "fiche", "fiches", context, status=status)


@get(paths.FICHE, include_in_schema=False)
async def fiche(
    request: Request[Any, Any, Any], uow: Uow, office: Office, request_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A fiche: the form until the deadline, then read only, with the decision once made."""
    return await _fiche_page(request, uow, office, request_id)


@post(paths.FICHE, include_in_schema=False, status_code=303)
async def fiche_edit(
    request: Request[Any, Any, Any], uow: Uow, office: Office, request_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change a fiche before its session's deadline (requests.edit)."""
    await _mine(uow, office, request_id)
    form = await ui.Form.of(request)
    refusals = ui.Refusals()
    values = _fields(form, refusals)
    if not refusals:
        await _attempt(
            uow,
            refusals,
            requests.edit(uow=uow, actor=office.actor, request_id=request_id, values=values),
        )
    if refusals:
        return await _fiche_page(
            request,
            uow,
            office,
            request_id,
            values={**form.values(), "thematics": form.getall("thematics")},
            errors=refusals.by_key,
            status=422,
        )
    return redirect(url(paths.FICHE, request_id=request_id) + "?fait=fiche-modifiee")


@post(paths.FICHE_WITHDRAW, include_in_schema=False, status_code=303)
async def fiche_withdraw(
    request: Request[Any, Any, Any], uow: Uow, office: Office, request_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Withdraw a fiche before its session's deadline (requests.withdraw)."""
    await _mine(uow, office, request_id)
    refusals = ui.Refusals()
    await _attempt(
        uow, refusals, requests.withdraw(uow=uow, actor=office.actor, request_id=request_id)
    )
    if refusals:
        return await _fiche_page(
            request, uow, office, request_id, errors=refusals.by_key, status=422
        )
    return redirect(url(paths.FICHE, request_id=request_id) + "?fait=fiche-retiree")


ROUTES: list[ControllerRouterHandler] = [
    fiches,
    fiche_new,
    fiche_submit,
    fiche,
    fiche_edit,
    fiche_withdraw,
]
