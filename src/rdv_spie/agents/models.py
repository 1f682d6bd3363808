"""Tables of the agents room."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Entity


class Role(StrEnum):
    """What an agent does in one organisation."""

    ADMIN = "admin"
    REFERENT = "referent"
    ANIMATOR = "animator"
    PARTNER = "partner"


class Agent(Entity):
    """A user of the back office and of the API."""

    __tablename__ = "agent"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class Membership(Entity):
    """An agent's role in one organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("agent_id", "organisation_id"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(String(16))


class ApiKey(Entity):
    """A secret an agent's information system presents; only its SHA-256 is kept."""

    __tablename__ = "api_key"

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SetupLink(Entity):
    """A single-use link, valid 72 h, that lets a new agent (or one who forgot it) choose
    their password: the e-mail carries a 256-bit token, the table only its SHA-256. Nobody
    else ever sets or sees an agent's password."""

    __tablename__ = "agent_setup_link"

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
