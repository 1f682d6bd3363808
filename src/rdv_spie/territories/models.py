"""Tables of the territories room."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class HolidayZone(StrEnum):
    """Which public-holiday calendar a territory follows."""

    METROPOLE = "metropole"
    ALSACE_MOSELLE = "alsace_moselle"
    GUADELOUPE = "guadeloupe"
    MARTINIQUE = "martinique"
    GUYANE = "guyane"
    REUNION = "reunion"
    MAYOTTE = "mayotte"


class OrganisationKind(StrEnum):
    """The kinds of structure that take part in the SPIE."""

    DEPARTEMENT = "departement"
    FRANCE_TRAVAIL = "france_travail"
    MISSION_LOCALE = "mission_locale"
    CAF = "caf"
    MSA = "msa"
    CCAS = "ccas"
    PLIE = "plie"
    CAP_EMPLOI = "cap_emploi"
    ASSOCIATION = "association"
    OTHER = "other"


class PlaceKind(StrEnum):
    """An address, or a remote mode."""

    ADDRESS = "address"
    PHONE = "phone"
    VIDEO = "video"


class Territory(Entity):
    """A département or part of one, with its time zone and holiday calendar."""

    __tablename__ = "territory"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    holiday_zone: Mapped[HolidayZone] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Alphanumeric SMS sender (≤ 11 characters); unset = the service's default.
    sms_sender: Mapped[str | None] = mapped_column(String(11))


class Organisation(Entity):
    """A structure (Département, France Travail agency, mission locale…) on a territory."""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("territory_id", "name"),)

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))


class Place(Entity):
    """Where an appointment happens: an address, or by phone / video."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PlaceKind] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
