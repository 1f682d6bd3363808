"""The page an invitation link opens (/i/<token>).

Unknown, expired and revoked tokens get the same 404 page, so a link's existence never leaks.
The full booking flow (identity check, slots, confirmation) builds on this page.
"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Response
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.deps import Uow
from rdv_spie.invitations import tokens
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications.render import Renderer
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.scheduling.models import AppointmentType
from rdv_spie.territories.models import Organisation, Territory

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@get("/i/{token:str}", include_in_schema=False)
async def open_invitation(token: FromPath[str], uow: Uow, state: State) -> Response[str]:
    """Who invites, for what, by when, and how to reach them."""
    renderer: Renderer = state.renderer
    now = uow.clock.now()
    row = None
    if 16 <= len(token) <= 64:
        row = (
            await uow.session.execute(
                select(Invitation, Journey, Cohort, Territory)
                .join(Journey, Journey.id == Invitation.journey_id)
                .join(Cohort, Cohort.id == Journey.cohort_id)
                .join(Territory, Territory.id == Journey.territory_id)
                .where(Invitation.token_hash == tokens.hash_token(token))
            )
        ).first()
    if row is None or row[0].revoked_at is not None or row[0].expires_at <= now:
        body = renderer.render_page("invitation_invalid", {})
        return Response(body, status_code=404, media_type="text/html", headers=PRIVATE)
    _, journey, cohort, territory = row
    organisation = (
        await uow.session.get(Organisation, cohort.organisation_id)
        if cohort.organisation_id
        else None
    )
    type_ = (
        await uow.session.get(AppointmentType, cohort.appointment_type_id)
        if cohort.appointment_type_id
        else None
    )
    context: dict[str, Any] = {
        "territory": {"name": territory.name, "phone": territory.phone},
        "organisation": {
            "name": organisation.name if organisation else territory.name,
            "phone": organisation.phone if organisation else None,
        },
        "type_name": type_.name if type_ else "Premier rendez-vous",
        "book_by": journey.appointment_by_on,
    }
    body = renderer.render_page("invitation", context)
    return Response(body, media_type="text/html", headers=PRIVATE)


ROUTES: list[ControllerRouterHandler] = [open_invitation]
