"""HTTP shapes of the agents room."""

from __future__ import annotations

import uuid

import msgspec

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.schemas import Name, Text


class MembershipOut(msgspec.Struct, kw_only=True):
    organisation_id: uuid.UUID
    role: Role


class AgentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    active: bool
    memberships: list[MembershipOut]

    @classmethod
    def of(cls, agent: Agent, memberships: list[Membership]) -> AgentOut:
        """From a row and its memberships."""
        return cls(
            id=agent.id,
            email=agent.email,
            first_name=agent.first_name,
            last_name=agent.last_name,
            active=agent.active,
            memberships=[
                MembershipOut(organisation_id=m.organisation_id, role=Role(m.role))
                for m in memberships
            ],
        )


class AgentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    role: Role
    email: Text
    first_name: Name
    last_name: Name
