"""Tables of the people room (the minimum booking needs; intake extends them)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class Person(Entity):
    """Someone who books appointments (usager): only what booking needs for now."""

    __tablename__ = "person"

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))


class Cohort(Entity):
    """A public followed on a territory, with its entry delay and its first appointment type."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("territory_id", "name"),)

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territory.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    entry_delay_days: Mapped[int] = mapped_column(default=30)
    appointment_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointment_type.id"))
