"""JSON API of territories, organisations and places (the territories room's rules):
/api/v1/territories, /organisations, /places."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from rdv_spie.deps import CurrentActor, Uow
from rdv_spie.schemas import sent
from rdv_spie.territories import service
from rdv_spie.territories.schemas import (
    OrganisationIn,
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
    async def list_territories(self, uow: Uow, actor: CurrentActor) -> list[TerritoryOut]:
        """Territories you work on."""
        return [_territory(t) for t in await service.list_territories(uow=uow, actor=actor)]

    @get("/{territory_id:uuid}")
    async def get_territory(
        self, uow: Uow, actor: CurrentActor, territory_id: FromPath[uuid.UUID]
    ) -> TerritoryOut:
        """One territory."""
        return _territory(
            await service.get_territory(uow=uow, actor=actor, territory_id=territory_id)
        )


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["organisations"]

    @get("/")
    async def list_organisations(self, uow: Uow, actor: CurrentActor) -> list[OrganisationOut]:
        """Organisations on your territories."""
        return [_organisation(o) for o in await service.list_organisations(uow=uow, actor=actor)]

    @get("/{organisation_id:uuid}")
    async def get_organisation(
        self, uow: Uow, actor: CurrentActor, organisation_id: FromPath[uuid.UUID]
    ) -> OrganisationOut:
        """One organisation."""
        return _organisation(
            await service.get_organisation(uow=uow, actor=actor, organisation_id=organisation_id)
        )

    @post("/")
    async def create_organisation(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[OrganisationIn]
    ) -> OrganisationOut:
        """Add a partner structure to your territory (admins)."""
        return _organisation(
            await service.create_organisation(uow=uow, actor=actor, **msgspec.structs.asdict(data))
        )


class PlaceController(Controller):
    path = "/places"
    tags = ["places"]

    @get("/")
    async def list_places(
        self, uow: Uow, actor: CurrentActor, territory_id: FromQuery[uuid.UUID | None] = None
    ) -> list[PlaceOut]:
        """Places on your territories."""
        places = await service.list_places(uow=uow, actor=actor, territory_id=territory_id)
        return [PlaceOut.of(p) for p in places]

    @get("/{place_id:uuid}")
    async def get_place(
        self, uow: Uow, actor: CurrentActor, place_id: FromPath[uuid.UUID]
    ) -> PlaceOut:
        """One place."""
        return PlaceOut.of(await service.get_place(uow=uow, actor=actor, place_id=place_id))

    @post("/")
    async def create_place(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[PlaceIn]
    ) -> PlaceOut:
        """Add a place to an organisation you manage."""
        fields = msgspec.structs.asdict(data)
        organisation_id = fields.pop("organisation_id")
        place = await service.create_place(
            uow=uow, actor=actor, organisation_id=organisation_id, **fields
        )
        return PlaceOut.of(place)

    @patch("/{place_id:uuid}")
    async def update_place(
        self,
        uow: Uow,
        actor: CurrentActor,
        place_id: FromPath[uuid.UUID],
        data: JSONBody[PlacePatch],
    ) -> PlaceOut:
        """Change a place (only the fields you send)."""
        changes = sent(data)
        place = await service.update_place(uow=uow, actor=actor, place_id=place_id, **changes)
        return PlaceOut.of(place)
