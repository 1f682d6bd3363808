"""The slots a person may choose on the public pages: what is offered (the journey's type up
to its deadline, or the booked appointment's type when moving), the soonest few first (nearest
places first), then one day or one place at a time; and the page saying nothing is left.

Reads slots through ``scheduling.search`` (the same engine that checks a booking); renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.datastructures import State

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.invitations import days, paths, places, service, visit
from rdv_spie.localtime import end_of_local_day, local_day
from rdv_spie.scheduling.models import Appointment
from rdv_spie.scheduling.slots import Slot
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Place
from rdv_spie.territories.places import place_context
from rdv_spie.web.auth import Visitor
from rdv_spie.web.pages import query_uuid, render

CONFIRMATION = paths.CONFIRMATION


@dataclass(frozen=True, slots=True)
class Mode:
    """Booking a first appointment, or moving the one booked."""

    name: str
    list_path: str

    @property
    def confirm_path(self) -> str:
        """The confirm step (GET: summary; POST: do it)."""
        return f"{self.list_path}/{paths.CONFIRM}"


BOOK = Mode("book", paths.BOOK)
MOVE = Mode("move", paths.MOVE)


async def verified_visit(uow: UnitOfWork, visitor: Visitor) -> visit.Visit | None:
    """The visit of a session that passed the identity check (None: back to /rdv)."""
    seen = await visit.for_visitor(uow, visitor)
    if seen.locked or not visitor.verified:
        return None
    return seen


@dataclass(slots=True)
class Offer:
    """What can be chosen: the type, the slots up to the last day, the appointment moved."""

    type_id: uuid.UUID
    last_day: date
    slots: list[Slot]
    moving: Appointment | None


async def offer_for(
    uow: UnitOfWork, seen: visit.Visit, mode: Mode, state: State, moving: Appointment | None
) -> Offer | None:
    settings: Settings = state.settings
    if mode is MOVE:
        assert moving is not None
        type_id = moving.appointment_type_id
        last_day = max(seen.journey.appointment_by_on, local_day(moving.starts_at, seen.zone))
    elif seen.type_ is not None:
        type_id, last_day = seen.type_.id, seen.journey.appointment_by_on
    else:
        return None
    slots = await visit.slots_until(
        uow,
        seen,
        type_id,
        end_of_local_day(last_day, seen.zone),
        grid_minutes=settings.slot_grid_minutes,
        cache=state.slot_cache,
    )
    if moving is not None:
        slots = [
            s
            for s in slots
            if not (s.starts_at == moving.starts_at and s.place_id == moving.place_id)
        ]
    return Offer(type_id, last_day, slots, moving)


async def _no_slot(
    request: Request[Any, Any, Any], uow: UnitOfWork, seen: visit.Visit, mode: Mode, status: int
) -> Response[Any]:
    """Nothing left inside the delay: the phone number; the animators hear of it (at most
    once a day per cohort, through the invitations planner's own alert)."""
    if mode is BOOK:
        journey = seen.journey
        journey.waiting_for_slots_since = journey.waiting_for_slots_since or uow.clock.now()
        await service.alert_no_slots(uow, seen.cohort, seen.zone, [journey])
    context = {**seen.context(), "mode": mode.name, "confirmation_path": CONFIRMATION}
    return render(request, "booking_none", context, status=status)


async def slots_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    seen: visit.Visit,
    mode: Mode,
    state: State,
    *,
    jour: str | None = None,
    lieu: str | None = None,
    notice: str | None = None,
    status: int = 200,
    moving: Appointment | None = None,
) -> Response[Any]:
    """The soonest few slots (nearest places first), then a choice of day and of place; or,
    with ``jour``, that day's slots; with ``lieu``, one place's only; an optional notice."""
    offer = await offer_for(uow, seen, mode, state, moving)
    if offer is None or not offer.slots:
        return await _no_slot(request, uow, seen, mode, status)
    person = await visit.person_of(uow, seen)
    by_id = await visit.places(uow, {s.place_id for s in offer.slots})
    ordered = places.nearest_first(by_id.values(), person.postcode)
    rank = {p.id: i for i, p in enumerate(ordered)}
    chosen = query_uuid(lieu)
    if chosen not in by_id:
        chosen = None
    shown = [s for s in offer.slots if chosen is None or s.place_id == chosen]
    asked = days.parse_day(jour)
    view = None
    if asked is not None:
        today = local_day(uow.clock.now(), seen.zone)
        view = days.day_view(shown, seen.zone, today=today, last_day=offer.last_day, asked=asked)
        listed = view.slots
    else:
        listed = days.soonest(shown, seen.zone, rank)
    suffix = f"&lieu={chosen}" if chosen else ""

    def day_href(day: date) -> str:
        return f"{mode.list_path}?jour={day}{suffix}"

    context = {
        **seen.context(),
        "mode": mode.name,
        "notice": notice,
        "list_path": mode.list_path,
        "confirmation_path": CONFIRMATION,
        "places": [{**place_context(p), "href": f"{mode.list_path}?lieu={p.id}"} for p in ordered],
        "chosen": str(chosen) if chosen else None,
        "several_places": len(ordered) > 1,
        "ask_phone": not person.phone,
        "groups": _groups(listed, by_id, rank, seen, mode),
        "day": view.day if view else None,
        "days": days.days_with_slots(shown, seen.zone),
        "previous": (
            {"day": view.previous, "href": day_href(view.previous)}
            if view and view.previous
            else None
        ),
        "following": (
            {"day": view.following, "href": day_href(view.following)}
            if view and view.following
            else None
        ),
        "next_available": (
            {
                "at": view.next_available.starts_at.astimezone(seen.zone),
                "href": day_href(days.local_day(view.next_available, seen.zone)),
            }
            if view and view.next_available
            else None
        ),
        "soonest_href": f"{mode.list_path}?lieu={chosen}" if chosen else mode.list_path,
        "book_by": seen.journey.appointment_by_on,
        "moving": moving_context(moving, seen) if moving else None,
    }
    return render(request, "booking_slots", context, status=status)


def _groups(
    slots: list[Slot],
    by_id: dict[uuid.UUID, Place],
    rank: dict[uuid.UUID, int],
    seen: visit.Visit,
    mode: Mode,
) -> list[dict[str, Any]]:
    """Slots grouped by place, nearest place first, each group in time order."""
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for slot in sorted(slots, key=lambda s: (rank[s.place_id], s.starts_at)):
        grouped.setdefault(slot.place_id, []).append(
            {
                "at": slot.starts_at.astimezone(seen.zone),
                "href": f"{mode.confirm_path}?debut={days.format_instant(slot.starts_at)}"
                f"&lieu={slot.place_id}",
            }
        )
    return [{"place": place_context(by_id[pid]), "slots": items} for pid, items in grouped.items()]


def moving_context(appointment: Appointment, seen: visit.Visit) -> dict[str, Any]:
    """The appointment being moved, as the pages show it."""
    return {"at": appointment.starts_at.astimezone(seen.zone)}
