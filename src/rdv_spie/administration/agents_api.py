"""JSON API of agents (the agents room's rules): /api/v1/agents."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from rdv_spie.agents import service
from rdv_spie.agents.schemas import AgentIn, AgentOut
from rdv_spie.deps import CurrentActor, Uow


class AgentController(Controller):
    path = "/agents"
    tags = ["agents"]

    @get("/")
    async def list_agents(self, uow: Uow, actor: CurrentActor) -> list[AgentOut]:
        """Your colleagues."""
        agents = await service.list_agents(uow=uow, actor=actor)
        memberships = await service.memberships_of(uow, [a.id for a in agents])
        return [AgentOut.of(a, memberships[a.id]) for a in agents]

    @get("/{agent_id:uuid}")
    async def get_agent(
        self, uow: Uow, actor: CurrentActor, agent_id: FromPath[uuid.UUID]
    ) -> AgentOut:
        """One colleague."""
        agent = await service.get_agent(uow=uow, actor=actor, agent_id=agent_id)
        return AgentOut.of(agent, (await service.memberships_of(uow, [agent.id]))[agent.id])

    @post("/")
    async def create_agent(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[AgentIn]
    ) -> AgentOut:
        """Add an agent to an organisation you administer."""
        agent = await service.create_agent(
            uow=uow,
            actor=actor,
            organisation_id=data.organisation_id,
            role=data.role,
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
        )
        return AgentOut.of(agent, (await service.memberships_of(uow, [agent.id]))[agent.id])
