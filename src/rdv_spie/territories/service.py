"""Territories, organisations and places: reads scoped to the actor, writes by managers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Forbidden, Invalid, NotFound
from rdv_spie.territories.models import Organisation, Place, PlaceKind, Territory


async def list_territories(*, uow: UnitOfWork, actor: Actor) -> Sequence[Territory]:
    """Territories the actor works on."""
    rows = await uow.session.scalars(
        select(Territory).where(Territory.id.in_(actor.territory_ids)).order_by(Territory.name)
    )
    return rows.all()


async def get_territory(*, uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> Territory:
    """One territory of the actor's."""
    actor.require_territory(territory_id)
    territory = await uow.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("territory not found", field="territory_id")
    return territory


async def list_organisations(*, uow: UnitOfWork, actor: Actor) -> Sequence[Organisation]:
    """Organisations on the actor's territories (the SPIE partners see each other)."""
    rows = await uow.session.scalars(
        select(Organisation)
        .where(Organisation.territory_id.in_(actor.territory_ids))
        .order_by(Organisation.name)
    )
    return rows.all()


async def get_organisation(
    *, uow: UnitOfWork, actor: Actor, organisation_id: uuid.UUID
) -> Organisation:
    """One organisation on the actor's territories."""
    organisation = await uow.session.get(Organisation, organisation_id)
    if organisation is None or organisation.territory_id not in actor.territory_ids:
        raise NotFound("organisation not found", field="organisation_id")
    return organisation


async def create_organisation(
    *,
    uow: UnitOfWork,
    actor: Actor,
    territory_id: uuid.UUID,
    name: str,
    kind: str,
    phone: str | None = None,
    email: str | None = None,
) -> Organisation:
    """Add a partner structure to a territory (admins of an organisation on it)."""
    await _require_territory_admin(uow, actor, territory_id)
    await _unique_organisation_name(uow, territory_id, name)
    organisation = Organisation(
        territory_id=territory_id, name=name, kind=kind, phone=phone, email=email
    )
    uow.session.add(organisation)
    await uow.session.flush()
    return organisation


async def update_organisation(
    *, uow: UnitOfWork, actor: Actor, organisation_id: uuid.UUID, **changes: Any
) -> Organisation:
    """Change a structure of the territory (name, kind, phone, e-mail): the admins of an
    organisation of its territory, as for adding one."""
    organisation = await get_organisation(uow=uow, actor=actor, organisation_id=organisation_id)
    await _require_territory_admin(uow, actor, organisation.territory_id)
    if "name" in changes and changes["name"] != organisation.name:
        await _unique_organisation_name(uow, organisation.territory_id, changes["name"])
    for name, value in changes.items():
        setattr(organisation, name, value)
    await uow.session.flush()
    return organisation


async def _require_territory_admin(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> None:
    actor.require_territory(territory_id)
    admin_here = await uow.session.scalar(
        select(Organisation.id).where(
            Organisation.territory_id == territory_id,
            Organisation.id.in_([o for o, r in actor.roles.items() if r == Role.ADMIN]),
        )
    )
    if admin_here is None:
        raise Forbidden(
            "only an admin of an organisation of the territory can add or change one",
            field="territory_id",
        )


async def _unique_organisation_name(uow: UnitOfWork, territory_id: uuid.UUID, name: str) -> None:
    clash = await uow.session.scalar(
        select(Organisation.id).where(
            Organisation.territory_id == territory_id, Organisation.name == name
        )
    )
    if clash is not None:
        raise Invalid(
            f"the territory already has an organisation named {name!r}",
            field="name",
            code="duplicate",
        )


async def list_places(
    *, uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID | None = None
) -> Sequence[Place]:
    """Places on the actor's territories."""
    territories = actor.territory_ids if territory_id is None else {territory_id}
    if territory_id is not None:
        actor.require_territory(territory_id)
    rows = await uow.session.scalars(
        select(Place)
        .join(Organisation, Organisation.id == Place.organisation_id)
        .where(Organisation.territory_id.in_(territories))
        .order_by(Place.name)
    )
    return rows.all()


async def get_place(*, uow: UnitOfWork, actor: Actor, place_id: uuid.UUID) -> Place:
    """One place on the actor's territories."""
    row = (
        await uow.session.execute(
            select(Place, Organisation.territory_id)
            .join(Organisation, Organisation.id == Place.organisation_id)
            .where(Place.id == place_id)
        )
    ).first()
    if row is None or row[1] not in actor.territory_ids:
        raise NotFound("place not found", field="place_id")
    return row[0]


def _check_place(kind: PlaceKind, address: str | None) -> None:
    if kind == PlaceKind.ADDRESS and not (address and address.strip()):
        raise Invalid("a place of kind 'address' needs an address", field="address")


async def create_place(
    *, uow: UnitOfWork, actor: Actor, organisation_id: uuid.UUID, **fields: Any
) -> Place:
    """Add a place to an organisation the actor manages."""
    actor.require_manager(organisation_id)
    _check_place(PlaceKind(fields["kind"]), fields.get("address"))
    await _unique_place_name(uow, organisation_id, fields["name"])
    place = Place(organisation_id=organisation_id, **fields)
    uow.session.add(place)
    await uow.session.flush()
    return place


async def update_place(
    *, uow: UnitOfWork, actor: Actor, place_id: uuid.UUID, **changes: Any
) -> Place:
    """Change a place of an organisation the actor manages."""
    place = await get_place(uow=uow, actor=actor, place_id=place_id)
    actor.require_manager(place.organisation_id)
    if "name" in changes and changes["name"] != place.name:
        await _unique_place_name(uow, place.organisation_id, changes["name"])
    for name, value in changes.items():
        setattr(place, name, value)
    _check_place(PlaceKind(place.kind), place.address)
    await uow.session.flush()
    return place


async def _unique_place_name(uow: UnitOfWork, organisation_id: uuid.UUID, name: str) -> None:
    clash = await uow.session.scalar(
        select(Place.id).where(Place.organisation_id == organisation_id, Place.name == name)
    )
    if clash is not None:
        raise Invalid(
            f"the organisation already has a place named {name!r}", field="name", code="duplicate"
        )
