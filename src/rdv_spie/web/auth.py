"""Who is behind a page request: an agent logged in with a password, or a person who opened
an invitation link. Dependencies for the rooms' ``pages.py``.

Back-office pages take ``office: OfficeUser`` (a live agent session, else a redirect to the
login form); public booking pages take ``visitor: Visitor`` (a live person session, else the
same "link not valid" page as an unknown token).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import select

from rdv_spie.agents.guards import Actor, actor_from_rows
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Forbidden, NotFound
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Organisation
from rdv_spie.web import paths, sessions
from rdv_spie.web.models import SessionKind, WebSession

LOGIN_PATH = paths.LOGIN


class LoginRequired(Exception):
    """No live agent session: the browser goes to the login form, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.login_path = f"{LOGIN_PATH}?suite={quote(next_path, safe='/')}"


@dataclass(frozen=True, slots=True)
class Acting:
    """One organisation an agent may act for in the back office, with their role there."""

    organisation_id: uuid.UUID
    name: str
    role: Role
    territory_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class OfficeUser:
    """A logged-in agent acting for one organisation: ``actor`` holds only that
    organisation's role (so every service the page calls sees, and changes, what this
    structure may), ``acting`` says which, ``choices`` lists the agent's organisations
    (partner-only ones left out) to switch between, ``session`` is the browser session."""

    actor: Actor
    agent: Agent
    session: WebSession
    acting: Acting
    choices: tuple[Acting, ...]

    @property
    def role(self) -> Role:
        """The agent's role in the organisation they act for."""
        return self.acting.role

    @property
    def manages(self) -> bool:
        """Admin or animator of the organisation they act for (the territory team)."""
        return self.actor.manages_any(self.actor.organisation_ids)

    @property
    def administers(self) -> bool:
        """Admin of the organisation they act for."""
        return self.actor.administers_all(self.actor.organisation_ids)

    def require_team_role(self) -> None:
        """Forbidden unless admin or animator of the organisation they act for."""
        self.actor.require_manager(self.acting.organisation_id)

    def require_admin_role(self) -> None:
        """Forbidden unless admin of the organisation they act for."""
        if not self.administers:
            raise Forbidden("only an admin of the organisation can do this", code="not_admin")


@dataclass(frozen=True, slots=True)
class Visitor:
    """A person's browser session opened from an invitation link."""

    session: WebSession
    token: str

    @property
    def verified(self) -> bool:
        """Whether the identity check was passed in this session."""
        return self.session.verified_at is not None

    @property
    def journey_id(self) -> uuid.UUID:
        """The journey the invitation belongs to."""
        assert self.session.journey_id is not None
        return self.session.journey_id


async def office_choices(uow: UnitOfWork, agent_id: uuid.UUID) -> tuple[Acting, ...]:
    """The organisations an agent may act for in the back office (any role but partner),
    by name."""
    rows = await uow.session.execute(
        select(
            Membership.organisation_id,
            Organisation.name,
            Membership.role,
            Organisation.territory_id,
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.agent_id == agent_id, Membership.role != Role.PARTNER)
        .order_by(Organisation.name, Organisation.id)
    )
    return tuple(Acting(org, name, Role(role), territory) for org, name, role, territory in rows)


def acting_actor(agent_id: uuid.UUID, acting: Acting) -> Actor:
    """The Actor of an agent acting for one organisation: that organisation's role only."""
    return Actor(
        agent_id=agent_id,
        roles={acting.organisation_id: acting.role},
        territory_of={acting.organisation_id: acting.territory_id},
    )


async def actor_of(uow: UnitOfWork, agent_id: uuid.UUID, *, office: bool = False) -> Actor:
    """The agent's roles per organisation, as the API's key lookup builds them; for the back
    office (``office``), without the organisations where they are only a partner."""
    query = (
        select(Membership.organisation_id, Membership.role, Organisation.territory_id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.agent_id == agent_id)
        .order_by(Organisation.name, Organisation.id)
    )
    if office:
        query = query.where(Membership.role != Role.PARTNER)
    rows = (await uow.session.execute(query)).all()
    return actor_from_rows(agent_id, rows)


def _next_path(request: Request[Any, Any, Any]) -> str:
    if request.method != "GET":
        return paths.OFFICE
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Any logged-in agent, partners included: the partners' portal's user. ``staff`` says
    whether they also have the back office (a role other than partner somewhere)."""

    agent: Agent
    session: WebSession
    staff: bool


async def _agent_session(
    request: Request[Any, Any, Any], uow: UnitOfWork, state: State
) -> tuple[WebSession, Agent]:
    settings: Settings = state.settings
    token = request.cookies.get(sessions.AGENT_COOKIE)
    row = await sessions.current_session(uow, settings, token, SessionKind.AGENT)
    if row is None or row.agent_id is None or token is None:
        raise LoginRequired(_next_path(request))
    agent = await uow.session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        row.ended_at = uow.clock.now()
        raise LoginRequired(_next_path(request))
    return row, agent


async def provide_signed_in(request: Request[Any, Any, Any], uow: Uow, state: State) -> SignedIn:
    """The logged-in agent whatever their roles, or LoginRequired."""
    row, agent = await _agent_session(request, uow, state)
    return SignedIn(agent, row, bool(await office_choices(uow, agent.id)))


async def provide_office_user(
    request: Request[Any, Any, Any], uow: Uow, state: State
) -> OfficeUser:
    """The logged-in agent acting for one of their organisations, or LoginRequired;
    Forbidden for a partner-only agent (their pages are the partners' portal)."""
    row, agent = await _agent_session(request, uow, state)
    choices = await office_choices(uow, agent.id)
    if not choices:  # partners read committee agendas by e-mail and feed, not people
        raise Forbidden("the back office is for referents, animators and admins", code="partner")
    chosen = next((c for c in choices if c.organisation_id == row.acting_organisation_id), None)
    acting = chosen or choices[0]  # until they choose: the first of their structures by name
    return OfficeUser(acting_actor(agent.id, acting), agent, row, acting, choices)


async def provide_visitor(request: Request[Any, Any, Any], uow: Uow, state: State) -> Visitor:
    """The person's session, or NotFound (rendered as the same page as an unknown link)."""
    settings: Settings = state.settings
    token = request.cookies.get(sessions.SESSION_COOKIE)
    row = await sessions.current_session(uow, settings, token, SessionKind.PERSON)
    if row is None or row.journey_id is None or token is None:
        raise NotFound("no live invitation session", code="link_invalid")
    return Visitor(row, token)


# Handler parameters name their dependency explicitly (see deps.py).
Office = NamedDependency[OfficeUser]
Member = NamedDependency[SignedIn]
Person = NamedDependency[Visitor]
