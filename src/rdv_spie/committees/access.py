"""Who may do what with committees: territory managers (admin, animator; the guards of
``agents.guards``) run series and sessions; a request is read by its structure and the
managers; the agenda's fiches by the members who accepted the charter."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from rdv_spie.agents.guards import Actor, manages_territory
from rdv_spie.audit import service as audit
from rdv_spie.committees import charter
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSeries, CtoSession
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Forbidden, Invalid, NotFound
from rdv_spie.territories.models import Organisation


async def territory_organisations(uow: UnitOfWork, territory_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The organisations of a territory."""
    return frozenset(
        await uow.session.scalars(
            select(Organisation.id).where(Organisation.territory_id == territory_id)
        )
    )


async def requesting_organisation(
    uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID, wanted: uuid.UUID | None
) -> uuid.UUID:
    """The structure a request comes from: ``wanted`` (one of the actor's), or the actor's only
    structure on the territory."""
    actor.require_territory(territory_id)
    mine = actor.staff_organisation_ids & await territory_organisations(uow, territory_id)
    if wanted is not None:
        if wanted not in mine:
            raise NotFound("organisation not found", field="organisation_id")
        return wanted
    if not mine:
        raise Forbidden(
            "only a referent, an admin or an animator of a structure of the territory can "
            "present a situation",
            field="organisation_id",
        )
    if len(mine) != 1:
        raise Invalid(
            "you belong to several structures on this territory: say which one asks",
            field="organisation_id",
        )
    return next(iter(mine))


async def series_for(uow: UnitOfWork, actor: Actor, series_id: uuid.UUID) -> CtoSeries:
    """A series of the actor's territories."""
    series = await uow.session.get(CtoSeries, series_id)
    if series is None or series.territory_id not in actor.territory_ids:
        raise NotFound("CTO series not found", field="series_id")
    return series


async def session_for(uow: UnitOfWork, actor: Actor, session_id: uuid.UUID) -> CtoSession:
    """A session of the actor's territories."""
    found = await uow.session.get(CtoSession, session_id)
    if found is None or found.territory_id not in actor.territory_ids:
        raise NotFound("CTO session not found", field="session_id")
    return found


async def request_for(uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> CtoRequest:
    """A request the actor may read: from one of their structures, or they run the territory.
    Anyone else gets the same 404 as for an unknown id."""
    request = await uow.session.get(CtoRequest, request_id)
    if request is None or request.territory_id not in actor.territory_ids:
        raise NotFound("situation request not found", field="request_id")
    if request.organisation_id in actor.staff_organisation_ids or await manages_territory(
        uow, actor, request.territory_id
    ):
        await audit.record(uow, actor, [request.person_id], audit.Read.CTO_REQUEST)
        return request
    raise NotFound("situation request not found", field="request_id")


async def is_sworn_member(uow: UnitOfWork, actor: Actor, series_id: uuid.UUID) -> bool:
    """True for a member of the series who accepted the current version of the
    confidentiality charter: the fiches (personal data) are read only under it, in the API as
    on the portal. Messages without a person in them (committees/notices.py) still go to
    members who accepted an earlier version."""
    found = await uow.session.scalar(
        select(CtoMember.id).where(
            CtoMember.series_id == series_id,
            CtoMember.agent_id == actor.agent_id,
            CtoMember.charter_version == charter.CURRENT_VERSION,
        )
    )
    return found is not None
