"""An organisation's admins run its agents' accounts: their role there, whether they may still
sign in. Only admins of the organisation; an organisation never loses its last active admin
(nor does an admin lock themselves out); an account shared with organisations the actor does
not administer is theirs to deactivate too, so it is refused here. Never touches a password.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Forbidden, Invalid, NotFound


def require_admin(actor: Actor, organisation_id: uuid.UUID) -> None:
    """NotFound off the actor's organisations, Forbidden unless they are its admin."""
    actor.require_member(organisation_id)
    if actor.roles[organisation_id] != Role.ADMIN:
        raise Forbidden("only an admin of the organisation can do this", field="organisation_id")


async def members(
    uow: UnitOfWork, *, actor: Actor, organisation_id: uuid.UUID
) -> Sequence[tuple[Agent, Role]]:
    """The organisation's agents with their role there, by name (admins only)."""
    require_admin(actor, organisation_id)
    rows = await uow.session.execute(
        select(Agent, Membership.role)
        .join(Membership, Membership.agent_id == Agent.id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(Agent.last_name, Agent.first_name, Agent.id)
    )
    return [(agent, Role(role)) for agent, role in rows]


async def member(
    uow: UnitOfWork, *, actor: Actor, organisation_id: uuid.UUID, agent_id: uuid.UUID
) -> tuple[Agent, Membership]:
    """One agent of the organisation and their membership (admins only); NotFound when they
    are not one of its agents (unknown and foreign look alike)."""
    require_admin(actor, organisation_id)
    found = (
        await uow.session.execute(
            select(Agent, Membership)
            .join(Membership, Membership.agent_id == Agent.id)
            .where(Agent.id == agent_id, Membership.organisation_id == organisation_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFound("agent not found", field="agent_id")
    return found[0], found[1]


async def _other_active_admins(
    uow: UnitOfWork, organisation_id: uuid.UUID, agent_id: uuid.UUID
) -> int:
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Membership)
        .join(Agent, Agent.id == Membership.agent_id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.role == Role.ADMIN,
            Membership.agent_id != agent_id,
            Agent.active,
        )
    )
    return int(count or 0)


async def change_role(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organisation_id: uuid.UUID,
    agent_id: uuid.UUID,
    role: Role,
) -> Membership:
    """Change an agent's role in the organisation; Conflict ``last_admin`` when that would
    leave it without an active admin."""
    agent, membership = await member(
        uow, actor=actor, organisation_id=organisation_id, agent_id=agent_id
    )
    if membership.role == Role.ADMIN and role != Role.ADMIN and agent.active:
        await uow.lock(f"organisation-admins:{organisation_id}")
        if await _other_active_admins(uow, organisation_id, agent_id) == 0:
            raise Conflict(
                "the organisation would have no active admin left", field="role", code="last_admin"
            )
    membership.role = role
    await uow.session.flush()
    return membership


async def set_active(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organisation_id: uuid.UUID,
    agent_id: uuid.UUID,
    active: bool,
) -> Agent:
    """Deactivate (they can no longer sign in nor use their API keys) or reactivate an agent
    of the organisation. Refused for oneself (``self_deactivation``), for an account that
    also belongs to organisations the actor does not administer
    (``agent_exists_elsewhere``), and for the organisation's last active admin
    (``last_admin``). The caller ends their browser sessions."""
    agent, membership = await member(
        uow, actor=actor, organisation_id=organisation_id, agent_id=agent_id
    )
    if agent.active == active:
        return agent
    if agent_id == actor.agent_id:
        raise Invalid("you cannot deactivate yourself", field="active", code="self_deactivation")
    elsewhere = frozenset(
        await uow.session.scalars(
            select(Membership.organisation_id).where(Membership.agent_id == agent_id)
        )
    )
    if not actor.administers_all(elsewhere):
        raise Conflict(
            "this agent also works for another organisation: an admin of each must agree",
            field="active",
            code="agent_exists_elsewhere",
        )
    if not active and membership.role == Role.ADMIN:
        await uow.lock(f"organisation-admins:{organisation_id}")
        if await _other_active_admins(uow, organisation_id, agent_id) == 0:
            raise Conflict(
                "the organisation would have no active admin left",
                field="active",
                code="last_admin",
            )
    agent.active = active
    await uow.session.flush()
    return agent
