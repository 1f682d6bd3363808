"""The slots a person may choose on the public pages: what is offered (the journey's type up
to its deadline, or the booked appointment's type when moving), nearest places first, one week
at a time; and the page saying nothing is left.

Reads slots through ``scheduling.search`` (the same engine that checks a booking); renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response
from litestar.datastructures import State

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.invitations import places, service, visit, week
from rdv_spie.invitations.policy import end_of_local_day, local_day
from rdv_spie.notifications.render import heure
from rdv_spie.scheduling.models import Appointment
from rdv_spie.scheduling.slots import Slot
from rdv_spie.settings import Settings
from rdv_spie.territories.timezones import monday_of
from rdv_spie.web.auth import Visitor
from rdv_spie.web.pages import query_uuid, render

CONFIRMATION = "/rdv/confirmation"
TAKEN = "taken"  # the notice: "Ce créneau vient d'être réservé."
GONE = "gone"  # the notice: "Ce créneau n'est plus disponible."


@dataclass(frozen=True, slots=True)
class Mode:
    """Booking a first appointment, or moving the one booked."""

    name: str
    list_path: str

    @property
    def confirm_path(self) -> str:
        """The confirm step (GET: summary; POST: do it)."""
        return f"{self.list_path}/confirmer"


BOOK = Mode("book", "/rdv/creneaux")
MOVE = Mode("move", "/rdv/deplacer")


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
    context = {**seen.context(), "mode": mode.name}
    return render(request, "booking_none", context, status=status)


async def slots_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    seen: visit.Visit,
    mode: Mode,
    state: State,
    *,
    semaine: str | None = None,
    lieu: str | None = None,
    notice: str | None = None,
    status: int = 200,
    moving: Appointment | None = None,
) -> Response[Any]:
    """The week of slots (nearest places first), with an optional notice."""
    offer = await offer_for(uow, seen, mode, state, moving)
    if offer is None or not offer.slots:
        return await _no_slot(request, uow, seen, mode, status)
    person = await visit.person_of(uow, seen)
    by_id = await visit.places(uow, {s.place_id for s in offer.slots})
    ordered = places.nearest_first(by_id.values(), person.postcode)
    chosen = query_uuid(lieu)
    if chosen not in by_id:
        chosen = None
    shown = [s for s in offer.slots if chosen is None or s.place_id == chosen]
    today = local_day(uow.clock.now(), seen.zone)
    view = week.week_view(
        shown, seen.zone, today=today, last_day=offer.last_day, asked=week.parse_day(semaine)
    )
    rank = {p.id: i for i, p in enumerate(ordered)}
    suffix = f"&lieu={chosen}" if chosen else ""
    days = []
    for day in view.days:
        groups: dict[uuid.UUID, list[dict[str, str]]] = {}
        for slot in day.slots:
            groups.setdefault(slot.place_id, []).append(_slot_link(slot, seen, mode))
        days.append(
            {
                "date": day.day,
                "groups": [
                    {"place": visit.place_context(by_id[pid]), "slots": groups[pid]}
                    for pid in sorted(groups, key=lambda p: rank[p])
                ],
            }
        )
    following = view.next_available
    context = {
        **seen.context(),
        "mode": mode.name,
        "notice": notice,
        "list_path": mode.list_path,
        "places": [visit.place_context(p) for p in ordered],
        "chosen": str(chosen) if chosen else None,
        "several_places": len(ordered) > 1,
        "week_start": view.start,
        "week_end": view.start + timedelta(days=6),
        "previous": f"{mode.list_path}?semaine={view.previous}{suffix}" if view.previous else None,
        "following": (
            f"{mode.list_path}?semaine={view.following}{suffix}" if view.following else None
        ),
        "next_available": (
            {
                "at": following.starts_at.astimezone(seen.zone),
                "href": f"{mode.list_path}?semaine="
                f"{monday_of(local_day(following.starts_at, seen.zone))}{suffix}",
            }
            if following
            else None
        ),
        "days": days,
        "book_by": seen.journey.appointment_by_on,
        "moving": moving_context(moving, seen) if moving else None,
    }
    return render(request, "booking_slots", context, status=status)


def _slot_link(slot: Slot, seen: visit.Visit, mode: Mode) -> dict[str, str]:
    local = slot.starts_at.astimezone(seen.zone)
    return {
        "label": heure(local),
        "href": f"{mode.confirm_path}?debut={week.format_instant(slot.starts_at)}"
        f"&lieu={slot.place_id}",
    }


def moving_context(appointment: Appointment, seen: visit.Visit) -> dict[str, Any]:
    """The appointment being moved, as the pages show it."""
    return {"at": appointment.starts_at.astimezone(seen.zone)}
