"""Agents and memberships: colleagues see each other; admins add agents to their organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from rdv_spie.agents.guards import Actor, colleague_ids, require_colleague
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Forbidden, Invalid, NotFound


async def list_agents(*, uow: UnitOfWork, actor: Actor) -> Sequence[Agent]:
    """The actor's colleagues (agents of the actor's organisations)."""
    ids = await colleague_ids(uow, actor)
    rows = await uow.session.scalars(
        select(Agent).where(Agent.id.in_(ids)).order_by(Agent.last_name, Agent.first_name)
    )
    return rows.all()


async def memberships_of(
    uow: UnitOfWork, agent_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Membership]]:
    """Memberships of several agents at once."""
    by_agent: dict[uuid.UUID, list[Membership]] = {a: [] for a in agent_ids}
    rows = await uow.session.scalars(select(Membership).where(Membership.agent_id.in_(agent_ids)))
    for membership in rows:
        by_agent[membership.agent_id].append(membership)
    return by_agent


async def get_agent(*, uow: UnitOfWork, actor: Actor, agent_id: uuid.UUID) -> Agent:
    """One colleague."""
    await require_colleague(uow, actor, agent_id)
    agent = await uow.session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent not found", field="agent_id")
    return agent


async def create_agent(
    *,
    uow: UnitOfWork,
    actor: Actor,
    organisation_id: uuid.UUID,
    role: Role,
    email: str,
    first_name: str,
    last_name: str,
) -> Agent:
    """Add an agent to an organisation the actor administers: someone new, or someone who
    belongs only to organisations the actor administers (never someone from elsewhere)."""
    actor.require_member(organisation_id)
    if actor.roles[organisation_id] != Role.ADMIN:
        raise Forbidden("only an admin of the organisation can add agents", field="organisation_id")
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise Invalid("not an e-mail address", field="email")
    agent = await uow.session.scalar(select(Agent).where(func.lower(Agent.email) == email))
    if agent is None:
        agent = Agent(email=email, first_name=first_name.strip(), last_name=last_name.strip())
        uow.session.add(agent)
        await uow.session.flush()
    else:
        orgs = frozenset(
            await uow.session.scalars(
                select(Membership.organisation_id).where(Membership.agent_id == agent.id)
            )
        )
        if organisation_id in orgs:
            raise Invalid(
                "this agent is already a member of the organisation",
                field="email",
                code="duplicate",
            )
        # The e-mail alone proves nothing: adding someone who works for a structure the
        # caller does not run would hand the caller a say over them (and over what they see).
        if not actor.administers_all(orgs):
            raise Conflict(
                "this person already belongs to another organisation: they must be added by an "
                "admin of an organisation they already belong to, or by the platform's "
                "operators with the command line",
                field="email",
                code="agent_exists_elsewhere",
            )
    uow.session.add(Membership(agent_id=agent.id, organisation_id=organisation_id, role=role))
    await uow.session.flush()
    return agent
