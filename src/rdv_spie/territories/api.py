"""JSON API of the territories room: /api/v1/territories, /organisations, /places."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.territories import service
from rdv_spie.territories.schemas import (
    OrganisationOut,
    PlaceIn,
    PlaceOut,
    PlacePatch,
    TerritoryOut,
)


def _territory(t: object) -> TerritoryOut:
    return msgspec.convert(t, TerritoryOut, from_attributes=True)


def _organisation(o: object) -> OrganisationOut:
    return msgspec.convert(o, OrganisationOut, from_attributes=True)


class TerritoryController(Controller):
    path = "/territories"
    tags = ["territories"]

    @get("/")
    async def list_territories(self, uow: UnitOfWork, actor: Actor) -> list[TerritoryOut]:
        """Territories you work on."""
        return [_territory(t) for t in await service.list_territories(uow=uow, actor=actor)]

    @get("/{territory_id:uuid}")
    async def get_territory(self, uow: UnitOfWork, actor: Actor,
                            territory_id: uuid.UUID) -> TerritoryOut:
        """One territory."""
        return _territory(await service.get_territory(uow=uow, actor=actor,
                                                      territory_id=territory_id))


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["organisations"]

    @get("/")
    async def list_organisations(self, uow: UnitOfWork, actor: Actor) -> list[OrganisationOut]:
        """Organisations on your territories."""
        return [_organisation(o) for o in await service.list_organisations(uow=uow, actor=actor)]

    @get("/{organisation_id:uuid}")
    async def get_organisation(self, uow: UnitOfWork, actor: Actor,
                               organisation_id: uuid.UUID) -> OrganisationOut:
        """One organisation."""
        return _organisation(await service.get_organisation(
            uow=uow, actor=actor, organisation_id=organisation_id))


class PlaceController(Controller):
    path = "/places"
    tags = ["places"]

    @get("/")
    async def list_places(self, uow: UnitOfWork, actor: Actor,
                          territory_id: uuid.UUID | None = None) -> list[PlaceOut]:
        """Places on your territories."""
        places = await service.list_places(uow=uow, actor=actor, territory_id=territory_id)
        return [PlaceOut.of(p) for p in places]

    @get("/{place_id:uuid}")
    async def get_place(self, uow: UnitOfWork, actor: Actor, place_id: uuid.UUID) -> PlaceOut:
        """One place."""
        return PlaceOut.of(await service.get_place(uow=uow, actor=actor, place_id=place_id))

    @post("/")
    async def create_place(self, uow: UnitOfWork, actor: Actor, data: PlaceIn) -> PlaceOut:
        """Add a place to an organisation you manage."""
        fields = msgspec.structs.asdict(data)
        organisation_id = fields.pop("organisation_id")
        place = await service.create_place(uow=uow, actor=actor,
                                           organisation_id=organisation_id, **fields)
        return PlaceOut.of(place)

    @patch("/{place_id:uuid}")
    async def update_place(self, uow: UnitOfWork, actor: Actor, place_id: uuid.UUID,
                           data: PlacePatch) -> PlaceOut:
        """Change a place (only the fields you send)."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        place = await service.update_place(uow=uow, actor=actor, place_id=place_id, **changes)
        return PlaceOut.of(place)
