"""Back-office pages of the privacy room (admins only, for their acting structure's
territory): everything held about a person, readable and printable, or as JSON
(``?format=json``, the API's export), and the erasure on request with its reason.

The page is the API's export (privacy/record.py), so both show the same and both write the
read trail; the erasure is privacy/erasure.py's, as the API's.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.privacy import erasure, paths, record
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect


def _url(path: str, person_id: uuid.UUID) -> str:
    return path.replace("{person_id:uuid}", str(person_id))


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    person_id: uuid.UUID,
    *,
    errors: dict[str, ui.Refusal] | None = None,
    reason: str = "",
    status: int = 200,
) -> Response[Any]:
    person = await record.person_for_admin(uow, office.actor, person_id)
    if person.territory_id != office.acting.territory_id:
        raise NotFound("person not found", field="person_id")
    held = await record.person_record(uow, office.actor, person)
    if request.query_params.get("format") == "json":
        body = msgspec.json.format(msgspec.json.encode(held), indent=2)
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="donnees-{person_id}.json"',
                "Cache-Control": "no-store",
            },
        )
    where = await ui.where_of(uow, office.actor, person.territory_id)
    context = {
        "held": held,
        "where": where,
        "zone": where.territory.timezone,
        "json_url": _url(paths.PERSON_DATA, person_id) + "?format=json",
        "erase_url": _url(paths.PERSON_ERASE, person_id),
        "errors": errors or {},
        "reason": reason,
        "done": "donnees-effacees" if request.query_params.get("fait") == "efface" else None,
    }
    return ui.page(request, office, "privacy_record", "administration", context, status=status)


@get(paths.PERSON_DATA, include_in_schema=False)
async def person_data(
    request: Request[Any, Any, Any], uow: Uow, office: Office, person_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Everything held about the person (written to their read trail)."""
    office.require_admin_role()
    return await _page(request, uow, office, person_id)


@post(paths.PERSON_ERASE, include_in_schema=False, status_code=303)
async def erase(
    request: Request[Any, Any, Any], uow: Uow, office: Office, person_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Erase the person's data, with the reason and the confirmation box ticked."""
    office.require_admin_role()
    person = await record.person_for_admin(uow, office.actor, person_id)
    if person.territory_id != office.acting.territory_id:
        raise NotFound("person not found", field="person_id")
    form = await ui.Form.of(request)
    reason = form.get("reason") or ""
    refusals: dict[str, ui.Refusal] = {}
    if form.get("confirm") != "oui":
        refusals["confirm"] = ui.Refusal("erase_unconfirmed", "confirm")
    if not refusals:
        try:  # in a savepoint: a refusal undoes everything the erasure began
            async with uow.session.begin_nested():
                await erasure.erase_on_request(uow, office.actor, person_id, reason)
        except (Invalid, Conflict) as exc:
            refusals["reason"] = ui.refusal(exc)
    if refusals:
        return await _page(
            request, uow, office, person_id, errors=refusals, reason=reason, status=422
        )
    return redirect(_url(paths.PERSON_DATA, person_id) + "?fait=efface")


ROUTES: list[ControllerRouterHandler] = [person_data, erase]
