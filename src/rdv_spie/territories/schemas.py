"""HTTP shapes of the territories room."""

from __future__ import annotations

import uuid

import msgspec
from msgspec import UNSET, UnsetType

from rdv_spie.schemas import Patch, Phone, Postcode, Text
from rdv_spie.territories.models import HolidayZone, OrganisationKind, Place, PlaceKind


class TerritoryOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    holiday_zone: HolidayZone
    phone: str | None


class OrganisationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    territory_id: uuid.UUID
    name: str
    kind: OrganisationKind
    phone: str | None
    email: str | None


class OrganisationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    territory_id: uuid.UUID
    name: Text
    kind: OrganisationKind
    phone: Phone | None = None
    email: Text | None = None


class PlaceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    kind: PlaceKind
    address: str | None
    postcode: str | None
    city: str | None
    phone: str | None
    active: bool

    @classmethod
    def of(cls, place: Place) -> PlaceOut:
        """From a row."""
        return cls(
            id=place.id,
            organisation_id=place.organisation_id,
            name=place.name,
            kind=PlaceKind(place.kind),
            address=place.address,
            postcode=place.postcode,
            city=place.city,
            phone=place.phone,
            active=place.active,
        )


class PlaceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    name: Text = msgspec.field()
    kind: PlaceKind
    address: Text | None = None
    postcode: Postcode | None = None
    city: Text | None = None
    phone: Phone | None = None


class PlacePatch(Patch):
    name: Text | UnsetType = UNSET
    kind: PlaceKind | UnsetType = UNSET
    address: Text | UnsetType | None = UNSET
    postcode: Postcode | UnsetType | None = UNSET
    city: Text | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
