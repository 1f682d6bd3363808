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
class OfficeUser:
    """A logged-in agent: who, their roles (partner-only organisations left out), their
    session."""

    actor: Actor
    agent: Agent
    session: WebSession


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


async def actor_of(uow: UnitOfWork, agent_id: uuid.UUID, *, office: bool = False) -> Actor:
    """The agent's roles per organisation, as the API's key lookup builds them; for the back
    office (``office``), without the organisations where they are only a partner."""
    query = (
        select(Membership.organisation_id, Membership.role, Organisation.territory_id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.agent_id == agent_id)
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


async def provide_office_user(
    request: Request[Any, Any, Any], uow: Uow, state: State
) -> OfficeUser:
    """The logged-in agent, or LoginRequired."""
    settings: Settings = state.settings
    token = request.cookies.get(sessions.AGENT_COOKIE)
    row = await sessions.current_session(uow, settings, token, SessionKind.AGENT)
    if row is None or row.agent_id is None or token is None:
        raise LoginRequired(_next_path(request))
    agent = await uow.session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        row.ended_at = uow.clock.now()
        raise LoginRequired(_next_path(request))
    actor = await actor_of(uow, agent.id, office=True)
    if not actor.roles:  # partners read committee agendas by e-mail and feed, not people
        raise Forbidden("the back office is for referents, animators and admins", code="partner")
    return OfficeUser(actor, agent, row)


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
Person = NamedDependency[Visitor]
