"""The territory's structures (organisations): listed, added and changed by the admins of an
organisation of the territory, through territories/service.py as the API's POST
/organisations (the same body type, so the same refusals)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import forms, paths
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.territories import service
from rdv_spie.territories.models import Organisation, OrganisationKind
from rdv_spie.territories.schemas import OrganisationIn
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

FIELDS = ("name", "kind", "phone", "email")
_DONE = frozenset({"structure-ajoutee", "structure-modifiee"})


def _values(organisation: Organisation) -> dict[str, str]:
    return {name: str(getattr(organisation, name) or "") for name in FIELDS}


def _about(organisation: Organisation) -> dict[str, Any]:
    """What the form says of the structure it changes (read before any change is tried)."""
    return {"id": organisation.id, "name": organisation.name}


def _form_page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    *,
    organisation: dict[str, Any] | None,
    values: dict[str, str],
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    action = (
        forms.url(paths.ORGANISATION, organisation_id=organisation["id"])
        if organisation
        else paths.ORGANISATION_NEW
    )
    context = {
        "admin": paths,
        "organisation": organisation,
        "action": action,
        "values": values,
        "errors": errors or {},
        "kinds": [k.value for k in OrganisationKind],
    }
    return ui.page(
        request, office, "admin_structures_form", "administration", context, status=status
    )


async def _read(
    request: Request[Any, Any, Any], refusals: ui.Refusals
) -> tuple[dict[str, Any], dict[str, str]]:
    form = await ui.Form.of(request)
    values = {name: form.get(name) for name in FIELDS}
    return forms.take(refusals, OrganisationIn, values, fields=FIELDS), values


@get(paths.ORGANISATIONS, include_in_schema=False)
async def organisations(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The structures of the territory."""
    office.require_admin_role()
    found = await service.list_organisations(uow=uow, actor=office.actor)
    context = {
        "admin": paths,
        "organisations": [
            {"row": o, "url": forms.url(paths.ORGANISATION, organisation_id=o.id)} for o in found
        ],
        "done": forms.done(request.query_params.get("fait"), _DONE),
    }
    return ui.page(request, office, "admin_structures", "administration", context)


@get(paths.ORGANISATION_NEW, include_in_schema=False)
async def new_organisation(request: Request[Any, Any, Any], office: Office) -> Response[str]:
    """The form adding a structure to the territory."""
    office.require_admin_role()
    return _form_page(request, office, organisation=None, values={"kind": "association"})


@post(paths.ORGANISATION_NEW, include_in_schema=False, status_code=303)
async def add_organisation(
    request: Request[Any, Any, Any], uow: Uow, office: Office
) -> Response[Any]:
    """Add a structure; every refused field is said at once."""
    office.require_admin_role()
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.create_organisation(
                uow=uow, actor=office.actor, territory_id=office.acting.territory_id, **fields
            ),
        )
    if refusals:
        return _form_page(
            request, office, organisation=None, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.ORGANISATIONS}?fait=structure-ajoutee")


async def _organisation(
    uow: UnitOfWork, office: OfficeUser, organisation_id: uuid.UUID
) -> Organisation:
    office.require_admin_role()
    return await service.get_organisation(
        uow=uow, actor=office.actor, organisation_id=organisation_id
    )


@get(paths.ORGANISATION, include_in_schema=False)
async def organisation(
    request: Request[Any, Any, Any], uow: Uow, office: Office, organisation_id: FromPath[uuid.UUID]
) -> Response[str]:
    """The form changing a structure of the territory."""
    found = await _organisation(uow, office, organisation_id)
    return _form_page(request, office, organisation=_about(found), values=_values(found))


@post(paths.ORGANISATION, include_in_schema=False, status_code=303)
async def change_organisation(
    request: Request[Any, Any, Any], uow: Uow, office: Office, organisation_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change a structure; every refused field is said at once, nothing is half-written."""
    about = _about(await _organisation(uow, office, organisation_id))
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals)
    if not refusals:
        await forms.attempt(
            uow,
            refusals,
            service.update_organisation(
                uow=uow, actor=office.actor, organisation_id=organisation_id, **fields
            ),
        )
    if refusals:
        return _form_page(
            request, office, organisation=about, values=values, errors=refusals.by_key, status=422
        )
    return redirect(f"{paths.ORGANISATIONS}?fait=structure-modifiee")


ROUTES: list[ControllerRouterHandler] = [
    organisations,
    new_organisation,
    add_organisation,
    organisation,
    change_organisation,
]
