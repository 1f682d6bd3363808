"""Where the person's file stands, on the public pages (``/rdv/mon-dossier``): their
appointments (upcoming and past, with the place), that the partners will discuss their
situation at a committee on a given day, and, once decided, what they are told
(``CtoRequest.next_steps``).

Never the committee's content: no thematic, no summary, no decision text (``decision`` is the
team's record; ``next_steps`` is the sentence written for the person). Reached from the
invitation link's session once the identity check is passed, like the other /rdv pages; a
session that has not passed it gets the check, whose answer comes back here.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.committees.models import CtoRequest, CtoSession, RequestStatus, SessionStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.invitations import paths, visit
from rdv_spie.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from rdv_spie.territories.places import place_context
from rdv_spie.web.auth import Person
from rdv_spie.web.pages import redirect, render

FILE = paths.FILE
NEXT = paths.NEXT
NEXT_FILE = paths.NEXT_FILE

_SHOWN = (AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NOSHOW)


async def _appointments(uow: UnitOfWork, seen: visit.Visit) -> list[dict[str, Any]]:
    """The person's appointments on the territory (kept ones), the latest first."""
    now = uow.clock.now()
    rows = (
        await uow.session.execute(
            select(Appointment, AppointmentType.name)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .where(
                Appointment.person_id == seen.journey.person_id,
                Appointment.territory_id == seen.territory.id,
                Appointment.status.in_(_SHOWN),
            )
            .order_by(Appointment.starts_at.desc())
        )
    ).all()
    found = await visit.places(uow, {a.place_id for a, _ in rows})
    return [
        {
            "type_name": name,
            "at": a.starts_at.astimezone(seen.zone),
            "place": place_context(found.get(a.place_id)),
            "upcoming": a.starts_at > now and a.status == AppointmentStatus.BOOKED,
        }
        for a, name in rows
    ]


async def _committees(uow: UnitOfWork, seen: visit.Visit) -> list[dict[str, Any]]:
    """Each request about the person (not withdrawn): the day of its session, and once
    decided, what the person is told. Nothing of its content."""
    rows = (
        await uow.session.execute(
            select(
                CtoRequest.status,
                CtoRequest.next_steps,
                CtoRequest.decided_at,
                CtoSession.starts_at,
                CtoSession.status,
            )
            .join(CtoSession, CtoSession.id == CtoRequest.session_id)
            .where(
                CtoRequest.person_id == seen.journey.person_id,
                CtoRequest.territory_id == seen.territory.id,
                CtoRequest.status != RequestStatus.WITHDRAWN,
            )
            .order_by(CtoSession.starts_at.desc())
        )
    ).all()
    return [
        {
            "decided": status == RequestStatus.DECIDED,
            "next_steps": next_steps if status == RequestStatus.DECIDED else None,
            "decided_on": decided_at.astimezone(seen.zone) if decided_at else None,
            # A cancelled session waits for the next one: no day to give.
            "on": None
            if session_status == SessionStatus.CANCELLED
            else starts_at.astimezone(seen.zone),
        }
        for status, next_steps, decided_at, starts_at, session_status in rows
    ]


@get(FILE, include_in_schema=False)
async def person_file(request: Request[Any, Any, Any], uow: Uow, visitor: Person) -> Response[Any]:
    """Where the file stands, in plain words (the identity check first)."""
    seen = await visit.for_visitor(uow, visitor)
    if seen.locked or not visitor.verified:  # /rdv asks, then comes back here
        return redirect(f"{paths.HOME}?{NEXT}={NEXT_FILE}")
    appointments = await _appointments(uow, seen)
    context = {
        **seen.context(),
        "upcoming": [a for a in appointments if a["upcoming"]][::-1],
        "past": [a for a in appointments if not a["upcoming"]],
        "committees": await _committees(uow, seen),
        "home_path": paths.HOME,
    }
    return render(request, "person_file", context)


ROUTES: list[ControllerRouterHandler] = [person_file]
