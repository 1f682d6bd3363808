"""Choosing a slot on the public pages: the soonest slots and the choice of day and place, the
confirm step (which asks for a number to call when a phone appointment has none on file), the
booking; the same pages in "move" mode for an appointment already booked.

Bookings go through ``scheduling.booking`` (its guarantees hold here: one agent never booked
twice, a double submission books once). A refused booking shows the slots again, as
web/refused.py says.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, State
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid
from rdv_spie.invitations import cutoffs, days, paths, visit
from rdv_spie.invitations.offer import (
    BOOK,
    CONFIRMATION,
    MOVE,
    Mode,
    moving_context,
    offer_for,
    slots_page,
    verified_visit,
)
from rdv_spie.localtime import end_of_local_day, local_day
from rdv_spie.people import contact
from rdv_spie.people import models as people
from rdv_spie.people.intake import REGION
from rdv_spie.scheduling import booking
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.settings import Settings
from rdv_spie.territories.models import HolidayZone, Place, PlaceKind
from rdv_spie.territories.places import place_context
from rdv_spie.web.auth import Person, Visitor
from rdv_spie.web.pages import query_uuid, redirect, render
from rdv_spie.web.refused import GONE, Refused, attempt, refused

PHONE_FIELD = "telephone"


async def _current(uow: UnitOfWork, seen: visit.Visit) -> Appointment | None:
    return await visit.current_appointment(uow, seen)


async def _movable(uow: UnitOfWork, seen: visit.Visit) -> Appointment | None:
    """The appointment to move, when the type's move cut-off has not passed."""
    appointment = await _current(uow, seen)
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return None
    type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
    return appointment if cutoffs.can_move(appointment, type_, uow.clock.now()) else None


@dataclass(frozen=True, slots=True)
class _Step:
    """A booking step allowed to go on: the visit, and the appointment moved (move mode)."""

    seen: visit.Visit
    moving: Appointment | None


async def _step(
    uow: UnitOfWork,
    visitor: Visitor,
    mode: Mode,
    *,
    submitted: tuple[datetime | None, uuid.UUID | None] | None = None,
) -> _Step | Response[Any]:
    """The guard of every booking step (slots, confirm, submit): a session past the identity
    check, else back to /rdv; booking only without an appointment, moving only one still
    movable, else the confirmation. A submission (``submitted``: its start and place) first
    locks the journey, one booking or move at a time, so two tabs never book two
    appointments; the same move submitted twice lands on the confirmation."""
    if submitted is not None:
        await uow.lock(f"journey:{visitor.journey_id}")
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return redirect(paths.HOME)
    if mode is BOOK:
        booked = await _current(uow, seen)  # a second submission lands here too
        return _Step(seen, None) if booked is None else redirect(CONFIRMATION)
    if submitted is not None:
        current = await _current(uow, seen)
        if current is not None and (current.starts_at, current.place_id) == submitted:
            return redirect(CONFIRMATION)
    moving = await _movable(uow, seen)
    return redirect(CONFIRMATION) if moving is None else _Step(seen, moving)


async def _list(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    visitor: Visitor,
    state: State,
    mode: Mode,
    jour: str | None,
    lieu: str | None,
) -> Response[Any]:
    step = await _step(uow, visitor, mode)
    if isinstance(step, Response):
        return step
    seen, moving = step.seen, step.moving
    return await slots_page(request, uow, seen, mode, state, jour=jour, lieu=lieu, moving=moving)


async def _confirm_form(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    visitor: Visitor,
    state: State,
    mode: Mode,
    debut: str | None,
    lieu: str | None,
) -> Response[Any]:
    step = await _step(uow, visitor, mode)
    if isinstance(step, Response):
        return step
    seen, moving = step.seen, step.moving
    starts_at, place_id = days.parse_instant(debut), query_uuid(lieu)
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
    place = (await visit.places(uow, {slot.place_id}))[slot.place_id]
    return await _confirm_page(
        request, uow, seen, mode, offer.type_id, slot.starts_at, place, moving=moving
    )


async def _confirm_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    seen: visit.Visit,
    mode: Mode,
    type_id: uuid.UUID,
    starts_at: datetime,
    place: Place,
    *,
    moving: Appointment | None,
    key: str | None = None,
    typed_phone: str = "",
    errors: dict[str, str] | None = None,
) -> Response[Any]:
    """The summary of the chosen slot and the button that books it; for a phone appointment
    of someone without a number on file, the number to call (with its error, if any)."""
    type_ = await visit.appointment_type(uow, type_id)
    person = await visit.person_of(uow, seen)
    context = {
        **seen.context(),
        "mode": mode.name,
        "type_name": type_.name,
        "at": starts_at.astimezone(seen.zone),
        "duration": type_.duration_minutes,
        "place": place_context(place),
        "debut": days.format_instant(starts_at),
        "lieu": str(place.id),
        "key": key or secrets.token_urlsafe(16),
        "action": mode.confirm_path,
        "back": f"{mode.list_path}?jour={local_day(starts_at, seen.zone)}",
        "moving": moving_context(moving, seen) if moving else None,
        "ask_phone": _needs_phone(place, person),
        "phone_field": PHONE_FIELD,
        "typed_phone": typed_phone,
        "errors": errors or {},
    }
    return render(request, "booking_confirm", context, status=422 if errors else 200)


def _needs_phone(place: Place, person: people.Person) -> bool:
    """A phone appointment needs a number to call."""
    return place.kind == PlaceKind.PHONE and not person.phone


async def _take_phone(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    seen: visit.Visit,
    mode: Mode,
    type_id: uuid.UUID,
    starts_at: datetime,
    place: Place,
    moving: Appointment | None,
    key: str | None,
    form: FormMultiDict,
) -> Response[Any] | None:
    """For a phone appointment without a number on file: the typed number, checked in the
    territory's region and written on the person in E.164 (in the booking's transaction, so
    a lost race rolls it back too); or the confirm step again with the field's error."""
    person = await visit.person_of(uow, seen)
    if not _needs_phone(place, person):
        return None
    typed = str(form.get(PHONE_FIELD) or "")[:100]
    region = REGION.get(HolidayZone(seen.territory.holiday_zone), "FR")
    number = contact.typed_phone(typed, region)
    if number is None:
        return await _confirm_page(
            request,
            uow,
            seen,
            mode,
            type_id,
            starts_at,
            place,
            moving=moving,
            key=key,
            typed_phone=typed,
            errors={PHONE_FIELD: "invalid" if typed.strip() else "empty"},
        )
    person.phone = number
    return None


async def _submit(
    request: Request[Any, Any, Any], uow: UnitOfWork, visitor: Visitor, state: State, mode: Mode
) -> Response[Any]:
    settings: Settings = state.settings
    journey_id = visitor.journey_id
    form = await request.form()
    starts_at = days.parse_instant(str(form.get("debut") or ""))
    place_id = query_uuid(str(form.get("lieu") or ""))
    key = str(form.get("cle") or "")[:64] or None
    step = await _step(uow, visitor, mode, submitted=(starts_at, place_id))
    if isinstance(step, Response):
        return step
    seen, moving = step.seen, step.moving
    if starts_at is None or place_id is None or (mode is BOOK and seen.type_ is None):
        missing = Invalid("no slot chosen", field="starts_at", code="slot_missing")
        return await _refused(request, uow, visitor, state, mode, refused(missing), None, None)
    last_day = seen.journey.appointment_by_on
    if moving is not None:
        last_day = max(last_day, local_day(moving.starts_at, seen.zone))
    if starts_at >= end_of_local_day(last_day, seen.zone):
        late = Invalid("the slot is past the delay", field="starts_at", code="outside_delay")
        return await _refused(request, uow, visitor, state, mode, refused(late), None, None)
    if moving is not None:
        type_id = moving.appointment_type_id
    else:
        assert seen.type_ is not None  # checked above
        type_id = seen.type_.id
    place = (await visit.places(uow, {place_id})).get(place_id)

    async def write() -> Response[Any] | None:
        # The number typed for a phone appointment is written here too: a refusal undoes it.
        if place is not None:
            asked = await _take_phone(
                request, uow, seen, mode, type_id, starts_at, place, moving, key, form
            )
            if asked is not None:
                return asked
        if moving is not None:
            await booking.move_appointment(
                uow=uow,
                actor=None,
                appointment_id=moving.id,
                starts_at=starts_at,
                place_id=place_id,
                grid_minutes=settings.slot_grid_minutes,
                cache=request.app.state.slot_cache,
            )
        else:
            await booking.book_appointment(
                uow=uow,
                actor=None,
                appointment_type_id=type_id,
                place_id=place_id,
                starts_at=starts_at,
                journey_id=journey_id,
                submission_key=key,
                submission_scope=f"journey:{journey_id}",
                grid_minutes=settings.slot_grid_minutes,
                cache=request.app.state.slot_cache,
            )
        return None

    outcome = await attempt(uow, write)
    if isinstance(outcome, Refused):
        return await _refused(request, uow, visitor, state, mode, outcome, starts_at, place_id)
    return outcome or redirect(CONFIRMATION)


async def _refused(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    visitor: Visitor,
    state: State,
    mode: Mode,
    why: Refused,
    starts_at: datetime | None,
    place_id: uuid.UUID | None,
) -> Response[Any]:
    """The slots again after a refused booking, with its notice: the chosen slot's day and
    place, read afresh (the refusal undid the booking's writes)."""
    fresh = await visit.load(uow, visitor.journey_id)
    moving = await _movable(uow, fresh) if mode is MOVE else None
    jour = str(local_day(starts_at, fresh.zone)) if starts_at is not None else None
    lieu = str(place_id) if place_id is not None else None
    return await slots_page(
        request,
        uow,
        fresh,
        mode,
        state,
        jour=jour,
        lieu=lieu,
        notice=why.notice,
        status=why.status,
        moving=moving,
    )


Day = FromQuery[str | None]


@get(BOOK.list_path, include_in_schema=False)
async def book_list(
    request: Request[Any, Any, Any],
    uow: Uow,
    visitor: Person,
    state: State,
    jour: Day = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The soonest slots inside the delay, then a choice of day and place."""
    return await _list(request, uow, visitor, state, BOOK, jour, lieu)


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
    jour: Day = None,
    lieu: FromQuery[str | None] = None,
) -> Response[Any]:
    """The slots to move the appointment to."""
    return await _list(request, uow, visitor, state, MOVE, jour, lieu)


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
