"""Choosing a slot on the public pages: the week view, the confirm step, the booking; the same
pages in "move" mode for an appointment already booked.

Bookings go through ``scheduling.booking`` (its guarantees hold here: one agent never booked
twice, a double submission books once). A lost race answers 409 with fresh slots.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.invitations import cutoffs, visit, week
from rdv_spie.invitations.offer import (
    BOOK,
    CONFIRMATION,
    GONE,
    MOVE,
    TAKEN,
    Mode,
    moving_context,
    offer_for,
    slots_page,
    verified_visit,
)
from rdv_spie.invitations.policy import end_of_local_day, local_day
from rdv_spie.scheduling import booking
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.settings import Settings
from rdv_spie.territories.timezones import monday_of
from rdv_spie.web.auth import Person, Visitor
from rdv_spie.web.pages import query_uuid, redirect, render


async def _current(uow: UnitOfWork, seen: visit.Visit) -> Appointment | None:
    return await visit.current_appointment(uow, seen)


async def _movable(uow: UnitOfWork, seen: visit.Visit) -> Appointment | None:
    """The appointment to move, when the type's move cut-off has not passed."""
    appointment = await _current(uow, seen)
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return None
    type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
    return appointment if cutoffs.can_move(appointment, type_, uow.clock.now()) else None


async def _list(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    visitor: Visitor,
    state: State,
    mode: Mode,
    semaine: str | None,
    lieu: str | None,
) -> Response[Any]:
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return redirect("/rdv")
    moving = None
    if mode is BOOK:
        if await _current(uow, seen) is not None:
            return redirect(CONFIRMATION)
    else:
        moving = await _movable(uow, seen)
        if moving is None:
            return redirect(CONFIRMATION)
    return await slots_page(
        request, uow, seen, mode, state, semaine=semaine, lieu=lieu, moving=moving
    )


async def _confirm_form(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    visitor: Visitor,
    state: State,
    mode: Mode,
    debut: str | None,
    lieu: str | None,
) -> Response[Any]:
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return redirect("/rdv")
    moving = None
    if mode is BOOK:
        if await _current(uow, seen) is not None:
            return redirect(CONFIRMATION)
    else:
        moving = await _movable(uow, seen)
        if moving is None:
            return redirect(CONFIRMATION)
    starts_at, place_id = week.parse_instant(debut), query_uuid(lieu)
    offer = await offer_for(uow, seen, mode, state, moving)
    slot = next(
        (
            s
            for s in (offer.slots if offer else [])
            if s.starts_at == starts_at and s.place_id == place_id
        ),
        None,
    )
    if slot is None or offer is None:
        return await slots_page(request, uow, seen, mode, state, notice=GONE, moving=moving)
    type_ = await visit.appointment_type(uow, offer.type_id)
    places = await visit.places(uow, {slot.place_id})
    context = {
        **seen.context(),
        "mode": mode.name,
        "type_name": type_.name,
        "at": slot.starts_at.astimezone(seen.zone),
        "duration": type_.duration_minutes,
        "place": visit.place_context(places[slot.place_id]),
        "debut": week.format_instant(slot.starts_at),
        "lieu": str(slot.place_id),
        "key": secrets.token_urlsafe(16),
        "action": mode.confirm_path,
        "back": f"{mode.list_path}?semaine={monday_of(local_day(slot.starts_at, seen.zone))}",
        "moving": moving_context(moving, seen) if moving else None,
    }
    return render(request, "booking_confirm", context)


async def _submit(
    request: Request[Any, Any, Any], uow: UnitOfWork, visitor: Visitor, state: State, mode: Mode
) -> Response[Any]:
    settings: Settings = state.settings
    journey_id = visitor.journey_id
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return redirect("/rdv")
    form = await request.form()
    starts_at = week.parse_instant(str(form.get("debut") or ""))
    place_id = query_uuid(str(form.get("lieu") or ""))
    key = str(form.get("cle") or "")[:64] or None
    # One booking or move of a journey at a time: two tabs never book two appointments.
    await uow.lock(f"journey:{journey_id}")
    current = await _current(uow, seen)
    moving = None
    if mode is BOOK and current is not None:
        return redirect(CONFIRMATION)  # booked already (a second submission lands here too)
    if mode is MOVE:
        if current is not None and (current.starts_at, current.place_id) == (starts_at, place_id):
            return redirect(CONFIRMATION)  # the same move submitted twice
        moving = await _movable(uow, seen)
        if moving is None:
            return redirect(CONFIRMATION)
    if starts_at is None or place_id is None or (mode is BOOK and seen.type_ is None):
        return await slots_page(
            request, uow, seen, mode, state, notice=GONE, status=409, moving=moving
        )
    last_day = seen.journey.appointment_by_on
    if moving is not None:
        last_day = max(last_day, local_day(moving.starts_at, seen.zone))
    if starts_at >= end_of_local_day(last_day, seen.zone):
        return await slots_page(
            request, uow, seen, mode, state, notice=GONE, status=409, moving=moving
        )
    try:
        if moving is not None:
            await booking.move_appointment(
                uow=uow,
                actor=None,
                appointment_id=moving.id,
                starts_at=starts_at,
                place_id=place_id,
                grid_minutes=settings.slot_grid_minutes,
            )
        else:
            assert seen.type_ is not None  # checked above
            await booking.book_appointment(
                uow=uow,
                actor=None,
                appointment_type_id=seen.type_.id,
                place_id=place_id,
                starts_at=starts_at,
                journey_id=journey_id,
                submission_key=key,
                submission_scope=f"journey:{journey_id}",
                grid_minutes=settings.slot_grid_minutes,
            )
    except (Conflict, Invalid) as exc:
        # The transaction may be broken (a refused insert): start over and show fresh slots.
        await uow.session.rollback()
        fresh = await visit.load(uow, journey_id)
        moving = await _movable(uow, fresh) if mode is MOVE else None
        notice = TAKEN if isinstance(exc, Conflict) else GONE
        return await slots_page(
            request, uow, fresh, mode, state, notice=notice, status=409, moving=moving
        )
    return redirect(CONFIRMATION)


Semaine = FromQuery[str | None]


@get(BOOK.list_path, include_in_schema=False)
async def book_list(
    request: Request[Any, Any, Any],
    uow: Uow,
    visitor: Person,
    state: State,
    semaine: Semaine = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The slots inside the delay, week by week."""
    return await _list(request, uow, visitor, state, BOOK, semaine, lieu)


@get(BOOK.confirm_path, include_in_schema=False)
async def book_confirm(
    request: Request[Any, Any, Any],
    uow: Uow,
    visitor: Person,
    state: State,
    debut: FromQuery[str | None] = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The summary of the chosen slot and the button that books it."""
    return await _confirm_form(request, uow, visitor, state, BOOK, debut, lieu)


@post(BOOK.confirm_path, include_in_schema=False, status_code=200)
async def book_submit(
    request: Request[Any, Any, Any], uow: Uow, visitor: Person, state: State
) -> Response[Any]:
    """Book the slot, then show the confirmation."""
    return await _submit(request, uow, visitor, state, BOOK)


@get(MOVE.list_path, include_in_schema=False)
async def move_list(
    request: Request[Any, Any, Any],
    uow: Uow,
    visitor: Person,
    state: State,
    semaine: Semaine = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The slots to move the appointment to."""
    return await _list(request, uow, visitor, state, MOVE, semaine, lieu)


@get(MOVE.confirm_path, include_in_schema=False)
async def move_confirm(
    request: Request[Any, Any, Any],
    uow: Uow,
    visitor: Person,
    state: State,
    debut: FromQuery[str | None] = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The summary of the new slot and the button that moves the appointment."""
    return await _confirm_form(request, uow, visitor, state, MOVE, debut, lieu)


@post(MOVE.confirm_path, include_in_schema=False, status_code=200)
async def move_submit(
    request: Request[Any, Any, Any], uow: Uow, visitor: Person, state: State
) -> Response[Any]:
    """Move the appointment, then show the confirmation."""
    return await _submit(request, uow, visitor, state, MOVE)


ROUTES: list[ControllerRouterHandler] = [
    book_list,
    book_confirm,
    book_submit,
    move_list,
    move_confirm,
    move_submit,
]

__all__ = ["BOOK", "CONFIRMATION", "MOVE", "ROUTES"]
