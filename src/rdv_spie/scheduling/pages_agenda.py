"""The back-office agenda: a week of the agent's (or their team's) appointments, and the
status a referent records once an appointment has started (seen, excused, no-show).

Status changes go through booking.set_status, which checks who may see the appointment (the
same 404 for an unknown id and another organisation's) and refuses "seen" before the start.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.agents.guards import colleague_ids
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.localtime import monday_of
from rdv_spie.scheduling import agenda, booking, paths
from rdv_spie.scheduling.models import AppointmentStatus
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid, redirect

PATH = paths.AGENDA
_SETTLE_VALUES = {s.value for s in agenda.SETTLE}
# ?fait= keys after a write (office_messages.html's ``done`` says them).
_DONE = frozenset({"statut", "rdv", "annule"})


def _week_of(value: str | None, today: date) -> date:
    try:
        return monday_of(date.fromisoformat(value or ""))
    except ValueError:
        return monday_of(today)


def agenda_path(monday: date, team: bool) -> str:
    """The agenda URL of a week."""
    return f"{PATH}?semaine={monday.isoformat()}" + ("&equipe=1" if team else "")


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    *,
    monday: date | None = None,
    team: bool | None = None,
    error: tuple[uuid.UUID, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    where = await ui.where(uow, office.actor)
    query = request.query_params
    if monday is None:
        monday = _week_of(query.get("semaine"), where.today(uow.clock.now()))
    if team is None:
        team = query.get("equipe") == "1"
    me = office.actor.agent_id
    agents = await colleague_ids(uow, office.actor) if team else frozenset({me})
    days = await agenda.week(
        uow,
        viewer_id=me,
        agent_ids=agents,
        organisation_ids=office.actor.staff_organisation_ids if team else frozenset(),
        monday=monday,
        zone=where.zone,
    )
    booked_with = None
    if query.get("fait") == "rdv" and (pris := query_uuid(query.get("pris"))) is not None:
        with contextlib.suppress(NotFound):  # only an appointment the agent may see is named
            await booking.get_appointment(uow=uow, actor=office.actor, appointment_id=pris)
            booked_with = await agenda.held_with(uow, pris)
    shown = (row.person_id for rows in days.values() for row in rows)
    await audit.record(uow, office.actor, shown, audit.Read.AGENDA)
    context = {
        "days": days,
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "team": team,
        "previous": agenda_path(monday - timedelta(days=7), team),
        "next": agenda_path(monday + timedelta(days=7), team),
        "me_path": agenda_path(monday, False),
        "team_path": agenda_path(monday, True),
        "back": agenda_path(monday, team),
        "error": error,
        "done": query.get("fait") if query.get("fait") in _DONE else None,
        "booked_with": booked_with,
        "count": sum(len(rows) for rows in days.values()),
    }
    return ui.page(request, office, "agenda", "agenda", context, status=status)


@get(PATH, include_in_schema=False)
async def week_agenda(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """One week of appointments (?semaine=YYYY-MM-DD, &equipe=1 for the team)."""
    return await _page(request, uow, office)


async def _change(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    appointment_id: uuid.UUID,
    change: Callable[[ui.Form], Awaitable[object]],
    done: str,
) -> Response[Any]:
    """Apply a change to one appointment from the agenda, then back to the agenda's week: with
    the notice ``done``, or the refusal beside the appointment."""
    form = await ui.Form.of(request)
    where = await ui.where(uow, office.actor)
    monday = _week_of(form.get("semaine"), where.today(uow.clock.now()))
    team = form.get("equipe") == "1"
    try:
        await change(form)
    except Invalid as exc:
        return await _page(
            request,
            uow,
            office,
            monday=monday,
            team=team,
            error=(appointment_id, ui.refusal(exc)),
            status=422,
        )
    return redirect(agenda_path(monday, team) + f"&fait={done}")


@post(paths.APPOINTMENT_STATUS, include_in_schema=False, status_code=303)
async def settle(
    request: Request[Any, Any, Any],
    uow: Uow,
    office: Office,
    appointment_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """Record seen, excused or no-show; refused before the start (said on the agenda)."""
    # Another organisation's appointment is the same 404 as an unknown one, whatever the form.
    await booking.get_appointment(uow=uow, actor=office.actor, appointment_id=appointment_id)

    async def record(form: ui.Form) -> object:
        value = form.get("status")
        if value not in _SETTLE_VALUES:
            raise Invalid("not a status to record", field="status", code="status_invalid")
        return await booking.set_status(
            uow=uow,
            actor=office.actor,
            appointment_id=appointment_id,
            status=AppointmentStatus(value),
        )

    return await _change(request, uow, office, appointment_id, record, "statut")


@post(paths.APPOINTMENT_CANCEL, include_in_schema=False, status_code=303)
async def cancel(
    request: Request[Any, Any, Any],
    uow: Uow,
    office: Office,
    appointment_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """Cancel, for the service, an appointment held for one of the agent's organisations or
    that they attend (the person is told); refused once it has started (said on the agenda)."""

    async def revoke(_form: ui.Form) -> object:
        return await booking.cancel_appointment(
            uow=uow, actor=office.actor, appointment_id=appointment_id, by_service=True
        )

    return await _change(request, uow, office, appointment_id, revoke, "annule")


ROUTES: list[ControllerRouterHandler] = [week_agenda, settle, cancel]
