"""The acting organisation's places: listed, added, changed and taken out of service (or put
back) by its admins, through territories/service.py as the API's POST and PATCH /places (the
same body type, so the same refusals). Another organisation's place is the same 404 as an
unknown one: places are the organisation's, as in the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import forms, paths
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.territories import service
from rdv_spie.territories.models import Place, PlaceKind
from rdv_spie.territories.schemas import PlaceIn
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

FIELDS = ("name", "kind", "address", "postcode", "city", "phone")
_DONE = frozenset({"lieu-ajoute", "lieu-modifie"})


def _values(place: Place) -> dict[str, str]:
    values = {name: str(getattr(place, name) or "") for name in FIELDS}
    values["active"] = "true" if place.active else "false"
    return values


def _about(place: Place) -> dict[str, Any]:
    """What the form says of the place it changes (read before any change is tried)."""
    return {"id": place.id, "name": place.name, "active": place.active}


def _form_page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    *,
    place: dict[str, Any] | None,
    values: dict[str, str],
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    action = forms.url(paths.PLACE, place_id=place["id"]) if place else paths.PLACE_NEW
    context = {
        "admin": paths,
        "place": place,
        "action": action,
        "values": values,
        "errors": errors or {},
        "kinds": [k.value for k in PlaceKind],
    }
    return ui.page(request, office, "admin_places_form", "administration", context, status=status)


async def _read(
    request: Request[Any, Any, Any], refusals: ui.Refusals, *, editing: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    form = await ui.Form.of(request)
    values = {name: form.get(name) for name in FIELDS}
    fields = forms.take(refusals, PlaceIn, values, fields=FIELDS)
    if editing:
        values["active"] = form.get("active")
        if values["active"] not in ("true", "false"):
            refusals.add(Invalid("choose yes or no", field="active", code="not_listed"))
        fields["active"] = values["active"] == "true"
    return fields, values


@get(paths.PLACES, include_in_schema=False)
async def places(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The places of the organisation the admin acts for."""
    office.require_admin_role()
    acting = office.acting
    found = await service.list_places(uow=uow, actor=office.actor, territory_id=acting.territory_id)
    context = {
        "admin": paths,
        "places": [
            {"row": p, "url": forms.url(paths.PLACE, place_id=p.id)}
            for p in found
            if p.organisation_id == acting.organisation_id
        ],
        "done": forms.done(request.query_params.get("fait"), _DONE),
    }
    return ui.page(request, office, "admin_places", "administration", context)


@get(paths.PLACE_NEW, include_in_schema=False)
async def new_place(request: Request[Any, Any, Any], office: Office) -> Response[str]:
    """The form adding a place to the organisation."""
    office.require_admin_role()
    return _form_page(request, office, place=None, values={"kind": "address"})


@post(paths.PLACE_NEW, include_in_schema=False, status_code=303)
async def add_place(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Add a place; every refused field is said at once."""
    office.require_admin_role()
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=False)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.create_place(
                uow=uow,
                actor=office.actor,
                organisation_id=office.acting.organisation_id,
                **fields,
            ),
        )
    if refusals:
        return _form_page(
            request, office, place=None, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.PLACES}?fait=lieu-ajoute")


async def _place(uow: UnitOfWork, office: OfficeUser, place_id: uuid.UUID) -> Place:
    """One of the acting organisation's places; anyone else's is the 404 of an unknown one."""
    office.require_admin_role()
    place = await service.get_place(uow=uow, actor=office.actor, place_id=place_id)
    if place.organisation_id != office.acting.organisation_id:
        raise NotFound("place not found", field="place_id")
    return place


@get(paths.PLACE, include_in_schema=False)
async def place(
    request: Request[Any, Any, Any], uow: Uow, office: Office, place_id: FromPath[uuid.UUID]
) -> Response[str]:
    """The form changing a place (and taking it out of service)."""
    found = await _place(uow, office, place_id)
    return _form_page(request, office, place=_about(found), values=_values(found))


@post(paths.PLACE, include_in_schema=False, status_code=303)
async def change_place(
    request: Request[Any, Any, Any], uow: Uow, office: Office, place_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change a place; every refused field is said at once, nothing is half-written."""
    about = _about(await _place(uow, office, place_id))
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=True)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.update_place(uow=uow, actor=office.actor, place_id=place_id, **fields),
        )
    if refusals:
        return _form_page(
            request, office, place=about, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.PLACES}?fait=lieu-modifie")


ROUTES: list[ControllerRouterHandler] = [places, new_place, add_place, place, change_place]
