"""The territory's appointment types (motifs): listed, added and changed by the admins, through
scheduling/service.py as the API's POST and PATCH /appointment-types (the same body type and
the same limits, so the same refusals, field by field). Types are the territory's: an admin
of any organisation of the territory changes them, as in the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import forms, paths
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid
from rdv_spie.scheduling import service
from rdv_spie.scheduling.models import AppointmentType, Attendance
from rdv_spie.scheduling.schemas import AppointmentTypeIn
from rdv_spie.territories import service as territories
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

NUMBERS = (
    "duration_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_days",
    "cancel_cutoff_minutes",
    "move_cutoff_minutes",
)
CHOICES = ("attendance", "online_cancel", "show_agent_name", "mandatory")
FIELDS = ("name", *NUMBERS, *CHOICES, "what_to_bring", "place_ids")
_DONE = frozenset({"motif-ajoute", "motif-modifie"})
_DEFAULTS = AppointmentTypeIn(territory_id=uuid.UUID(int=0), name="-")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _values(source: object) -> dict[str, Any]:
    values: dict[str, Any] = {n: _text(getattr(source, n)) for n in FIELDS if n != "place_ids"}
    if isinstance(source, AppointmentType):
        values["place_ids"] = [str(p) for p in source.allowed_place_ids]
        values["active"] = _text(source.active)
    else:
        values["name"] = ""
        values["place_ids"] = []
    return values


async def _form_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    *,
    type_: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    places = await territories.list_places(
        uow=uow, actor=office.actor, territory_id=office.acting.territory_id
    )
    context = {
        "admin": paths,
        "type": type_,
        "action": forms.url(paths.TYPE, type_id=type_["id"]) if type_ else paths.TYPE_NEW,
        "values": values,
        "errors": errors or {},
        "attendances": [a.value for a in Attendance],
        "places": [p for p in places if p.active or str(p.id) in values["place_ids"]],
    }
    return ui.page(request, office, "admin_types_form", "administration", context, status=status)


async def _read(
    request: Request[Any, Any, Any], refusals: ui.Refusals, *, editing: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    form = await ui.Form.of(request)
    values: dict[str, Any] = {n: form.get(n) for n in FIELDS if n != "place_ids"}
    values["place_ids"] = form.getall("place_ids")
    fields = forms.take(refusals, AppointmentTypeIn, values, fields=FIELDS)
    if editing:
        values["active"] = form.get("active")
        if values["active"] not in ("true", "false"):
            refusals.add(Invalid("choose yes or no", field="active", code="not_listed"))
        fields["active"] = values["active"] == "true"
    return fields, values


@get(paths.TYPES, include_in_schema=False)
async def types(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The appointment types of the territory."""
    office.require_admin_role()
    found = await service.list_types(
        uow=uow, actor=office.actor, territory_id=office.acting.territory_id
    )
    context = {
        "admin": paths,
        "types": [{"row": t, "url": forms.url(paths.TYPE, type_id=t.id)} for t in found],
        "done": forms.done(request.query_params.get("fait"), _DONE),
    }
    return ui.page(request, office, "admin_types", "administration", context)


@get(paths.TYPE_NEW, include_in_schema=False)
async def new_type(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The form adding an appointment type, filled with the API's defaults."""
    office.require_admin_role()
    return await _form_page(request, uow, office, type_=None, values=_values(_DEFAULTS))


@post(paths.TYPE_NEW, include_in_schema=False, status_code=303)
async def add_type(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Add an appointment type; every refused field is said at once."""
    office.require_admin_role()
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=False)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.create_type(
                uow=uow,
                actor=office.actor,
                territory_id=office.acting.territory_id,
                **fields,
            ),
            not_found=("place_ids",),
        )
    if refusals:
        return await _form_page(
            request, uow, office, type_=None, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.TYPES}?fait=motif-ajoute")


async def _type(uow: UnitOfWork, office: OfficeUser, type_id: uuid.UUID) -> AppointmentType:
    office.require_admin_role()
    return await service.get_type(uow=uow, actor=office.actor, type_id=type_id)


@get(paths.TYPE, include_in_schema=False)
async def type_page(
    request: Request[Any, Any, Any], uow: Uow, office: Office, type_id: FromPath[uuid.UUID]
) -> Response[str]:
    """The form changing an appointment type (appointments already booked keep their times)."""
    found = await _type(uow, office, type_id)
    about = {"id": found.id, "name": found.name}
    return await _form_page(request, uow, office, type_=about, values=_values(found))


@post(paths.TYPE, include_in_schema=False, status_code=303)
async def change_type(
    request: Request[Any, Any, Any], uow: Uow, office: Office, type_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change an appointment type; every refused field is said at once, nothing is
    half-written."""
    found = await _type(uow, office, type_id)
    about = {"id": found.id, "name": found.name}
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=True)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.update_type(uow=uow, actor=office.actor, type_id=type_id, **fields),
            not_found=("place_ids",),
        )
    if refusals:
        return await _form_page(
            request, uow, office, type_=about, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.TYPES}?fait=motif-modifie")


ROUTES: list[ControllerRouterHandler] = [types, new_type, add_type, type_page, change_type]
