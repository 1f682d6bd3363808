"""The partners' portal: the versioned confidentiality charter accepted online, the upcoming
sessions of the series the agent sits on, a session's frozen agenda (number, thematics,
requesting structure: no name on the list) and one fiche of it (every read in the audit
trail). Any logged-in agent who is a member of a series: partners mostly.

Until a member has accepted the current version of the charter (committees/charter.py), they
see their sessions but no agenda and no fiche (403). A session of a series they do not sit
on is the 404 of an unknown one.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.audit import service as audit
from rdv_spie.committees import charter, paths
from rdv_spie.committees.models import (
    CtoMember,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Forbidden, NotFound
from rdv_spie.people.models import Person
from rdv_spie.territories.models import Organisation, Place, Territory
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Member, SignedIn
from rdv_spie.web.pages import redirect

_ON_AGENDA = (RequestStatus.ON_AGENDA, RequestStatus.DECIDED)


def _url(path: str, **ids: uuid.UUID) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


async def _memberships(uow: UnitOfWork, member: SignedIn) -> list[tuple[CtoMember, CtoSeries]]:
    rows = await uow.session.execute(
        select(CtoMember, CtoSeries)
        .join(CtoSeries, CtoSeries.id == CtoMember.series_id)
        .where(CtoMember.agent_id == member.agent.id)
        .order_by(CtoSeries.name)
    )
    return [(m, s) for m, s in rows]


async def _session_of_member(
    uow: UnitOfWork, member: SignedIn, session_id: uuid.UUID
) -> tuple[CtoSession, CtoSeries, CtoMember, ui.Where]:
    """A session of a series the agent sits on, else the 404 of an unknown one; Forbidden
    until the current charter is accepted."""
    session = await uow.session.get(CtoSession, session_id)
    found = None
    if session is not None:
        found = (
            await uow.session.execute(
                select(CtoMember, CtoSeries)
                .join(CtoSeries, CtoSeries.id == CtoMember.series_id)
                .where(
                    CtoMember.series_id == session.series_id,
                    CtoMember.agent_id == member.agent.id,
                )
            )
        ).first()
    if session is None or found is None:
        raise NotFound("CTO session not found", field="session_id")
    sitting, series = found
    if not charter.accepted(sitting):
        raise Forbidden("accept the confidentiality charter first", code="charter_not_accepted")
    territory = await uow.session.get(Territory, session.territory_id)
    assert territory is not None
    return session, series, sitting, ui.Where(territory, ZoneInfo(territory.timezone))


@get(paths.PORTAL, include_in_schema=False)
async def portal(request: Request[Any, Any, Any], uow: Uow, member: Member) -> Response[str]:
    """The sessions to come of every series the agent sits on, and the charter to accept."""
    sittings = await _memberships(uow, member)
    now = uow.clock.now()
    series_ids = [s.id for _, s in sittings]
    sessions = (
        await uow.session.scalars(
            select(CtoSession)
            .where(CtoSession.series_id.in_(series_ids), CtoSession.ends_at >= now)
            .order_by(CtoSession.starts_at)
            .limit(50)
        )
    ).all()
    by_series = {s.id: (m, s) for m, s in sittings}
    places = {
        p.id: p
        for p in await uow.session.scalars(
            select(Place).where(Place.id.in_([s.place_id for _, s in sittings if s.place_id]))
        )
    }
    territory = None
    if sittings:
        territory = await uow.session.get(Territory, sittings[0][1].territory_id)
    where = ui.Where(territory, ZoneInfo(territory.timezone)) if territory else None
    rows = [
        {
            "session": s,
            "series": by_series[s.series_id][1],
            "place": places.get(by_series[s.series_id][1].place_id or uuid.UUID(int=0)),
            "sworn": charter.accepted(by_series[s.series_id][0]),
            "url": _url(paths.PORTAL_SESSION, session_id=s.id),
            "cancelled": s.status == SessionStatus.CANCELLED,
        }
        for s in sessions
    ]
    context = {
        "rows": rows,
        "where": where,
        "sittings": sittings,
        "to_accept": any(not charter.accepted(m) for m, _ in sittings),
        "subscribe_urls": {s.id: _url(paths.SUBSCRIBE, series_id=s.id) for _, s in sittings},
        "portal": paths,
        "done": "charte" if request.query_params.get("fait") == "charte" else None,
    }
    return ui.portal_page(request, member, "portal", "portail", context)


@get(paths.CHARTER, include_in_schema=False)
async def charter_page(request: Request[Any, Any, Any], uow: Uow, member: Member) -> Response[str]:
    """The current version of the confidentiality charter, and accepting it."""
    sittings = await _memberships(uow, member)
    return _charter(request, member, sittings, errors={})


def _charter(
    request: Request[Any, Any, Any],
    member: SignedIn,
    sittings: list[tuple[CtoMember, CtoSeries]],
    *,
    errors: dict[str, ui.Refusal],
    status: int = 200,
) -> Response[str]:
    context = {
        "version": charter.CURRENT_VERSION,
        "text": f"charters/charte-{charter.CURRENT_VERSION}.html",
        "accepted": [m for m, _ in sittings if charter.accepted(m)],
        "member_of_any": bool(sittings),
        "all_accepted": bool(sittings) and all(charter.accepted(m) for m, _ in sittings),
        "errors": errors,
        "portal": paths,
    }
    return ui.portal_page(request, member, "portal_charter", "portail", context, status=status)


@post(paths.CHARTER, include_in_schema=False, status_code=303)
async def accept_charter(
    request: Request[Any, Any, Any], uow: Uow, member: Member
) -> Response[Any]:
    """Accept the current version for every series the agent sits on (version and instant
    recorded); the box must be ticked."""
    form = await ui.Form.of(request)
    sittings = await _memberships(uow, member)
    if not sittings:
        raise NotFound("no committee membership", field="series_id")
    if form.get("accepte") != "oui":
        refused = {"accepte": ui.Refusal("charter_unticked", "accepte")}
        return _charter(request, member, sittings, errors=refused, status=422)
    now = uow.clock.now()
    for sitting, _ in sittings:
        if not charter.accepted(sitting):
            charter.accept(sitting, now)
    return redirect(f"{paths.PORTAL}?fait=charte")


@get(paths.PORTAL_SESSION, include_in_schema=False)
async def portal_session(
    request: Request[Any, Any, Any], uow: Uow, member: Member, session_id: FromPath[uuid.UUID]
) -> Response[str]:
    """Once frozen, the agenda: number, thematics, requesting structure (no name)."""
    session, series, _, where = await _session_of_member(uow, member, session_id)
    rows = []
    if session.frozen_at is not None:
        found = await uow.session.execute(
            select(CtoRequest, Organisation.name)
            .join(Organisation, Organisation.id == CtoRequest.organisation_id)
            .where(CtoRequest.session_id == session.id, CtoRequest.status.in_(_ON_AGENDA))
            .order_by(CtoRequest.agenda_number)
        )
        rows = [
            {"request": r, "structure": name, "url": _url(paths.PORTAL_FICHE, request_id=r.id)}
            for r, name in found
        ]
    place = await uow.session.get(Place, series.place_id) if series.place_id else None
    context = {"session": session, "series": series, "rows": rows, "where": where, "place": place,
               "portal": paths}  # fmt: skip
    return ui.portal_page(request, member, "portal_session", "portail", context)


@get(paths.PORTAL_FICHE, include_in_schema=False)
async def portal_fiche(
    request: Request[Any, Any, Any], uow: Uow, member: Member, request_id: FromPath[uuid.UUID]
) -> Response[str]:
    """One fiche of a frozen agenda, for a sworn member of its series; written to the
    person's read trail."""
    found = await uow.session.get(CtoRequest, request_id)
    if found is None or found.status not in _ON_AGENDA:
        raise NotFound("situation request not found", field="request_id")
    session, series, _, where = await _session_of_member(uow, member, found.session_id)
    if session.frozen_at is None:
        raise NotFound("situation request not found", field="request_id")
    person = await uow.session.get(Person, found.person_id)
    structure = await uow.session.get(Organisation, found.organisation_id)
    await audit.record(uow, member.agent.id, [found.person_id], audit.Read.CTO_REQUEST)
    context = {
        "fiche": found,
        "person": person,
        "structure": structure,
        "session": session,
        "series": series,
        "where": where,
        "back": _url(paths.PORTAL_SESSION, session_id=session.id),
    }
    return ui.portal_page(request, member, "portal_fiche", "portail", context)


ROUTES: list[ControllerRouterHandler] = [
    portal,
    charter_page,
    accept_charter,
    portal_session,
    portal_fiche,
]
