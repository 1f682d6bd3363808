"""The person's appointment on the public pages: the confirmation (date, place, what to
bring, cancel and move while before the type's cut-offs), its .ics, and cancelling it.

Cancelling goes through ``scheduling.booking`` (it frees the agents and tells the person).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid
from rdv_spie.ical import ics
from rdv_spie.ical.event import appointment_event
from rdv_spie.invitations import cutoffs, paths, visit
from rdv_spie.invitations.offer import BOOK, CONFIRMATION, MOVE, verified_visit
from rdv_spie.notifications import compose
from rdv_spie.scheduling import booking
from rdv_spie.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer
from rdv_spie.territories.models import Place
from rdv_spie.territories.places import one_line, place_context
from rdv_spie.web.auth import Person, Visitor
from rdv_spie.web.pages import redirect, render

ICS_PATH = paths.ICS
CANCEL = paths.CANCEL
CANCELLED = paths.CANCELLED


def _to_bring(renderer: Renderer, type_: AppointmentType, place: Place) -> str:
    """The type's own "what to bring", else the default for the place's kind, as plain text
    (pages/booking_to_bring.txt holds the words; a page escapes the text like any value)."""
    return renderer.macro(
        "pages/booking_to_bring.txt", "to_bring", str(place.kind), type_.what_to_bring
    )


async def confirmation_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    seen: visit.Visit,
    appointment: Appointment,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response[Any]:
    """The appointment, what to bring, and what the person may still do online."""
    now = uow.clock.now()
    type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
    place = (await visit.places(uow, {appointment.place_id}))[appointment.place_id]
    context = {
        **seen.context(),
        "type_name": type_.name,
        "at": appointment.starts_at.astimezone(seen.zone),
        "duration": type_.duration_minutes,
        "place": place_context(place),
        "whom": await compose.whom(uow, appointment, type_),
        "to_bring": _to_bring(request.app.state.renderer, type_, place),
        "past": appointment.starts_at <= now or appointment.status != AppointmentStatus.BOOKED,
        "can_cancel": cutoffs.can_cancel(appointment, type_, now),
        "can_move": cutoffs.can_move(appointment, type_, now),
        "online_cancel": type_.online_cancel,
        "ics_path": ICS_PATH,
        "cancel_path": CANCEL,
        "move_path": MOVE.list_path,
        "file_path": paths.FILE,
        "error": error,
    }
    return render(request, "booking_confirmation", context, status=status)


async def _seen_and_appointment(
    uow: UnitOfWork, visitor: Visitor
) -> tuple[visit.Visit, Appointment] | None:
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return None
    appointment = await visit.current_appointment(uow, seen)
    return None if appointment is None else (seen, appointment)


@get(CONFIRMATION, include_in_schema=False)
async def confirmation(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """The booked appointment (also when coming back later through the link)."""
    found = await _seen_and_appointment(uow, visitor)
    if found is None:
        return redirect(BOOK.list_path if visitor.verified else paths.HOME)
    return await confirmation_page(request, uow, *found)


@get(ICS_PATH, include_in_schema=False)
async def calendar_file(uow: Uow, visitor: Person, state: State) -> Response[Any]:
    """The appointment as an .ics file to add to a calendar."""
    found = await _seen_and_appointment(uow, visitor)
    if found is None:
        return redirect(paths.HOME)
    seen, appointment = found
    settings: Settings = state.settings
    type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
    place = (await visit.places(uow, {appointment.place_id}))[appointment.place_id]
    cancelled = appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.REVOKED)
    body = ics.event_calendar(
        appointment_event(appointment, summary=type_.name, location=one_line(place)),
        method="CANCEL" if cancelled else "REQUEST",
        tzid=seen.territory.timezone,
        organizer_email=settings.email_from_address,
        organizer_name=seen.inviter,
        description=_to_bring(state.renderer, type_, place),
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rendez-vous.ics"'},
    )


@get(CANCEL, include_in_schema=False)
async def cancel_form(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """Are you sure? (with the appointment recalled)."""
    found = await _seen_and_appointment(uow, visitor)
    if found is None:
        return redirect(paths.HOME)
    seen, appointment = found
    type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
    if not cutoffs.can_cancel(appointment, type_, uow.clock.now()):
        return redirect(CONFIRMATION)
    context = {
        **seen.context(),
        "type_name": type_.name,
        "at": appointment.starts_at.astimezone(seen.zone),
        "action": CANCEL,
        "back": CONFIRMATION,
    }
    return render(request, "booking_cancel", context)


@post(CANCEL, include_in_schema=False, status_code=200)
async def cancel(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """Cancel the appointment when still allowed online; else say to call."""
    found = await _seen_and_appointment(uow, visitor)
    if found is None:
        return redirect(CANCELLED if visitor.verified else paths.HOME)
    seen, appointment = found
    if appointment.status == AppointmentStatus.BOOKED:
        type_ = await visit.appointment_type(uow, appointment.appointment_type_id)
        if not cutoffs.can_cancel(appointment, type_, uow.clock.now()):
            return await confirmation_page(
                request, uow, seen, appointment, error="too_late", status=409
            )
        try:
            await booking.cancel_appointment(
                uow=uow, actor=None, appointment_id=appointment.id, by_service=False
            )
        except Invalid:
            return await confirmation_page(
                request, uow, seen, appointment, error="too_late", status=409
            )
    return redirect(CANCELLED)


@get(CANCELLED, include_in_schema=False)
async def cancelled(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """The appointment is cancelled: book another one, or call."""
    seen = await verified_visit(uow, visitor)
    if seen is None:
        return redirect(paths.HOME)
    if await visit.current_appointment(uow, seen) is not None:
        return redirect(CONFIRMATION)
    context = {**seen.context(), "book_path": BOOK.list_path}
    return render(request, "booking_cancelled", context)


ROUTES: list[ControllerRouterHandler] = [
    confirmation,
    calendar_file,
    cancel_form,
    cancel,
    cancelled,
]
