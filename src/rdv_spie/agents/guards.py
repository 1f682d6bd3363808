"""Who is acting, and what they may see: an agent sees and changes only their organisations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from rdv_spie.agents.models import Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Forbidden, NotFound
from rdv_spie.territories.models import Organisation

_MANAGERS = frozenset({Role.ADMIN, Role.ANIMATOR})


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated agent with their roles per organisation and their territories."""

    agent_id: uuid.UUID
    roles: dict[uuid.UUID, Role]  # organisation id → role, by the organisation's name
    territory_of: dict[uuid.UUID, uuid.UUID]  # organisation id → its territory

    @property
    def territory_ids(self) -> frozenset[uuid.UUID]:
        """Territories of the agent's organisations."""
        return frozenset(self.territory_of.values())

    @property
    def organisation_ids(self) -> frozenset[uuid.UUID]:
        """Organisations the agent belongs to."""
        return frozenset(self.roles)

    @property
    def staff_organisation_ids(self) -> frozenset[uuid.UUID]:
        """Organisations where the agent works with people (any role but partner): their
        appointments, cohorts and journeys are the agent's to see."""
        return frozenset(org for org, role in self.roles.items() if role != Role.PARTNER)

    @property
    def managed_organisation_ids(self) -> frozenset[uuid.UUID]:
        """Organisations where the agent is admin or animator."""
        return frozenset(org for org, role in self.roles.items() if role in _MANAGERS)

    def staff_structures_on(self, territory_id: uuid.UUID) -> list[uuid.UUID]:
        """The organisations of the territory where the agent works with people, by name."""
        return [
            org
            for org, role in self.roles.items()
            if role != Role.PARTNER and self.territory_of[org] == territory_id
        ]

    def require_territory(self, territory_id: uuid.UUID, *, what: str = "territory") -> None:
        """NotFound unless the agent works on this territory (unknown and foreign look alike)."""
        if territory_id not in self.territory_ids:
            raise NotFound(f"{what} not found", field=f"{what}_id")

    def require_member(self, organisation_id: uuid.UUID) -> None:
        """NotFound unless the agent belongs to the organisation."""
        if organisation_id not in self.roles:
            raise NotFound("organisation not found", field="organisation_id")

    def require_manager(self, organisation_id: uuid.UUID) -> None:
        """Forbidden unless the agent is admin or animator of the organisation."""
        self.require_member(organisation_id)
        if self.roles[organisation_id] not in _MANAGERS:
            raise Forbidden(
                "only an admin or an animator of the organisation can do this",
                field="organisation_id",
            )

    def administers_all(self, organisation_ids: frozenset[uuid.UUID]) -> bool:
        """True when the agent is admin of every one of these organisations."""
        return all(self.roles.get(org) == Role.ADMIN for org in organisation_ids)

    def manages_any(self, organisation_ids: frozenset[uuid.UUID]) -> bool:
        """True when the agent is admin or animator of one of these organisations."""
        return any(self.roles.get(org) in _MANAGERS for org in organisation_ids)


def actor_from_rows(agent_id: uuid.UUID, rows: Sequence[Sequence[Any]]) -> Actor:
    """An Actor from (organisation id, role, territory id) rows, by organisation name."""
    return Actor(
        agent_id=agent_id,
        roles={org: Role(role) for org, role, _ in rows},
        territory_of={org: t for org, _, t in rows},
    )


async def territory_team(uow: UnitOfWork, actor: Actor) -> frozenset[uuid.UUID]:
    """Territories whose team the actor is in: admin or animator of one of their structures."""
    managed = actor.managed_organisation_ids
    if not managed:
        return frozenset()
    return frozenset(
        await uow.session.scalars(
            select(Organisation.territory_id).where(Organisation.id.in_(managed))
        )
    )


async def manages_territory(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> bool:
    """True for an admin or animator of one of the territory's organisations."""
    return territory_id in actor.territory_ids and territory_id in await territory_team(uow, actor)


async def require_territory_manager(
    uow: UnitOfWork,
    actor: Actor,
    territory_id: uuid.UUID,
    *,
    what: str = "territory",
    detail: str = "only an admin or an animator of the territory can do this",
) -> None:
    """NotFound off the actor's territories (``{what} not found``, field ``{what}_id``: an
    unknown and a foreign one look alike), Forbidden (same field) unless the actor is admin or
    animator of one of the territory's organisations."""
    actor.require_territory(territory_id, what=what)
    if territory_id not in await territory_team(uow, actor):
        raise Forbidden(detail, field=f"{what}_id")


async def require_territory_admin(
    uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID, *, what: str, detail: str
) -> None:
    """As ``require_territory_manager``, for an admin of one of the territory's
    organisations only (an animator gets Forbidden too)."""
    await require_territory_manager(uow, actor, territory_id, what=what, detail=detail)
    administered = [org for org, role in actor.roles.items() if role == Role.ADMIN]
    found = await uow.session.scalar(
        select(Organisation.id)
        .where(Organisation.id.in_(administered), Organisation.territory_id == territory_id)
        .limit(1)
    )
    if found is None:
        raise Forbidden(detail, field=f"{what}_id")


async def colleague_ids(uow: UnitOfWork, actor: Actor) -> frozenset[uuid.UUID]:
    """Agents who share an organisation with the actor (the actor included)."""
    if not actor.roles:
        return frozenset({actor.agent_id})
    rows = await uow.session.scalars(
        select(Membership.agent_id).where(Membership.organisation_id.in_(actor.organisation_ids))
    )
    return frozenset(rows) | {actor.agent_id}


async def require_colleague(uow: UnitOfWork, actor: Actor, agent_id: uuid.UUID) -> None:
    """NotFound unless the agent shares an organisation with the actor (or is the actor)."""
    if agent_id not in await colleague_ids(uow, actor):
        raise NotFound("agent not found", field="agent_id")


async def managed_agent_ids(uow: UnitOfWork, actor: Actor) -> frozenset[uuid.UUID]:
    """The actor and the agents of the organisations they run (admin or animator): whose
    absences they may read."""
    managed = actor.managed_organisation_ids
    if not managed:
        return frozenset({actor.agent_id})
    rows = await uow.session.scalars(
        select(Membership.agent_id).where(Membership.organisation_id.in_(managed))
    )
    return frozenset(rows) | {actor.agent_id}


async def require_can_manage_agent(uow: UnitOfWork, actor: Actor, agent_id: uuid.UUID) -> None:
    """The agent themselves, or an admin/animator of one of their organisations."""
    if agent_id == actor.agent_id:
        return
    orgs = frozenset(
        await uow.session.scalars(
            select(Membership.organisation_id).where(Membership.agent_id == agent_id)
        )
    )
    if not orgs & actor.organisation_ids:
        raise NotFound("agent not found", field="agent_id")
    if not actor.manages_any(orgs & actor.organisation_ids):
        raise Forbidden(
            "only the agent, or an admin or animator of their organisation, can change this",
            field="agent_id",
        )
