"""Booking on behalf of a person who called: choose the journey, the type, a slot of a week,
confirm; then booking.book_appointment with the same guarantees as online (a double submit
books once: a random key in the form; a refused booking shows the week's slots again, as
web/refused.py says).

A journey outside the agent's organisations is the same 404 as an unknown one (followup).
Places and times are the journey's territory's, which need not be the agent's first one.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.types import ControllerRouterHandler

from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid
from rdv_spie.localtime import monday_of
from rdv_spie.people import followup
from rdv_spie.scheduling import agenda, booking, paths, search, service
from rdv_spie.settings import Settings
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid, redirect
from rdv_spie.web.refused import Refused, attempt

PATH = paths.BOOKING


def _instant(value: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    params: dict[str, str],
    *,
    error: ui.Refusal | None = None,
    status: int = 200,
) -> Response[str]:
    actor = office.actor
    context: dict[str, Any] = {
        "error": error,
        "q": params.get("q", ""),
        "chosen": None,
        "journeys": [],
        "confirm": False,
        "days": {},
    }
    journey_id = query_uuid(params.get("parcours"))
    if params.get("parcours") and journey_id is None:
        journey_id = uuid.UUID(int=0)  # a malformed id is the same 404 as an unknown one
    if journey_id is None:
        context["journeys"] = await followup.open_journeys(uow, actor, context["q"])
        return ui.page(request, office, "booking", "prise", context, status=status)
    chosen = await followup.visible_journey(uow, actor, journey_id)
    await audit.record(uow, actor, [chosen.person.id], audit.Read.JOURNEY)
    where = await ui.where_of(uow, actor, chosen.journey.territory_id)
    types = [
        t
        for t in await service.list_types(
            uow=uow, actor=actor, territory_id=chosen.journey.territory_id
        )
        if t.active
    ]
    type_id = query_uuid(params.get("motif")) or chosen.cohort.appointment_type_id
    type_ = next((t for t in types if t.id == type_id), types[0] if types else None)
    places = {p.id: p for p in await agenda.places_of(uow, where.territory.id)}
    place_id = query_uuid(params.get("lieu"))
    today = where.today(uow.clock.now())
    monday = monday_of(today)
    with contextlib.suppress(ValueError):
        monday = monday_of(datetime.fromisoformat(params.get("semaine", "")).date())
    context.update(
        chosen=chosen,
        types=types,
        type=type_,
        places=list(places.values()),
        place_id=place_id,
        monday=monday,
        previous=(monday - timedelta(days=7)).isoformat(),
        next=(monday + timedelta(days=7)).isoformat(),
    )
    # Only agents of the structures that follow the journey receive the person.
    among = await followup.following_organisations(uow, chosen)
    settings: Settings = request.app.state.settings
    starts_at = _instant(params.get("debut", ""))
    if type_ is not None and starts_at is not None and place_id in places and not error:
        _, here = await search.find_slots(
            uow=uow,
            now=uow.clock.now(),
            type_id=type_.id,
            window_start=starts_at,
            window_end=starts_at + timedelta(minutes=1),
            place_ids=frozenset({place_id}),
            grid_minutes=settings.slot_grid_minutes,
            cache=request.app.state.slot_cache,
            organisation_ids=among,
        )
        free = here[0].referent_ids if here and here[0].starts_at == starts_at else ()
        context.update(
            confirm=True,
            starts=where.local(starts_at),
            starts_iso=starts_at.isoformat(),
            place=places[place_id],
            key=secrets.token_urlsafe(16),
            receivers=await agenda.receivers(uow, free, among, where.territory.id),
            preferred=chosen.journey.referent_id,
        )
        return ui.page(request, office, "booking", "prise", context, status=status)
    days: dict[Any, list[Any]] = {}
    if type_ is not None:
        start, end = agenda.week_bounds(monday, where.zone)
        _, found = await search.find_slots(
            uow=uow,
            now=uow.clock.now(),
            type_id=type_.id,
            window_start=start,
            window_end=end,
            place_ids=frozenset({place_id}) if place_id else None,
            grid_minutes=settings.slot_grid_minutes,
            cache=request.app.state.slot_cache,
            organisation_ids=among,
        )
        for slot in found:
            local = where.local(slot.starts_at)
            days.setdefault(local.date(), []).append(
                {
                    "at": local,
                    "iso": slot.starts_at.isoformat(),
                    "place_id": slot.place_id,
                    "place": places[slot.place_id].name if slot.place_id in places else "",
                }
            )
    context["days"] = days
    return ui.page(request, office, "booking", "prise", context, status=status)


@get(PATH, include_in_schema=False)
async def book_form(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """Choose the person, then the type, place and slot, then confirm."""
    return await _page(request, uow, office, dict(request.query_params))


@post(PATH, include_in_schema=False, status_code=303)
async def book(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Book the confirmed slot for the journey (once, however often the form is sent)."""
    form = await ui.Form.of(request)
    params = form.values()
    journey_id = query_uuid(params.get("parcours")) or uuid.UUID(int=0)
    chosen = await followup.visible_journey(uow, office.actor, journey_id)
    settings: Settings = request.app.state.settings
    starts_at = _instant(params.get("debut", ""))
    key = params.get("cle", "")

    async def write() -> booking.Booked:
        if starts_at is None or not 8 <= len(key) <= 64:
            raise Invalid("no slot chosen", field="starts_at", code="slot_missing")
        return await booking.book_appointment(
            uow=uow,
            actor=office.actor,
            appointment_type_id=ui.parse_uuid(params.get("motif"), "motif"),
            place_id=ui.parse_uuid(params.get("lieu"), "lieu"),
            starts_at=starts_at,
            journey_id=chosen.journey.id,
            referent_id=query_uuid(params.get("avec")),
            among=await followup.following_organisations(uow, chosen),
            submission_key=key,
            submission_scope=f"office:{office.actor.agent_id}",
            grid_minutes=settings.slot_grid_minutes,
            cache=request.app.state.slot_cache,
        )

    booked = await attempt(uow, write)
    if isinstance(booked, Refused):  # the week's slots again, for the same person, type, place
        fresh = {k: v for k, v in params.items() if k in ("parcours", "motif", "lieu", "semaine")}
        error = ui.Refusal(booked.code, booked.field)
        return await _page(request, uow, office, fresh, error=error, status=booked.status)
    where = await ui.where_of(uow, office.actor, chosen.journey.territory_id)
    monday = monday_of(where.local(booked.appointment.starts_at).date())
    appointment_id = booked.appointment.id
    return redirect(
        f"{paths.AGENDA}?semaine={monday.isoformat()}&equipe=1&fait=rdv&pris={appointment_id}"
        f"#rdv-{appointment_id}"
    )


ROUTES: list[ControllerRouterHandler] = [book_form, book]
