"""The admins' pages of their organisation's agents: the list, adding one (who then receives
an e-mail with a single-use link to choose their password), changing a role, deactivating
(their sessions end at once) or reactivating, and sending a new link.

Admins of the organisation the agent acts for only (``require_admin_role``), and only that
organisation's agents (another one's is the same 404 as an unknown one). Adding goes through
the API's service (agents/service.create_agent), roles and activity through
agents/accounts.py. No page ever shows or takes a password for someone else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select

from rdv_spie.administration import messages, paths
from rdv_spie.agents import accounts, service, setup_links
from rdv_spie.agents.models import Agent, Role, SetupLink
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.web import office as ui
from rdv_spie.web import sessions
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.models import SessionKind, WebSession
from rdv_spie.web.pages import redirect

ROLES = (Role.REFERENT, Role.ANIMATOR, Role.ADMIN, Role.PARTNER)
MAX_NAME = 100
# ?fait= keys after a write (office_messages.html's ``done`` says them).
_DONE = frozenset(
    {
        "agent-cree",
        "agent-ajoute",
        "partenaire-ajoute",
        "role",
        "desactive",
        "reactive",
        "lien-envoye",
    }
)


def url(path: str, agent_id: uuid.UUID) -> str:
    """A page of one agent."""
    return path.replace("{agent_id:uuid}", str(agent_id))


def _done(request: Request[Any, Any, Any]) -> str | None:
    key = request.query_params.get("fait")
    return key if key in _DONE else None


def _role(value: str) -> Role:
    if value not in {r.value for r in ROLES}:
        raise Invalid("not one of the listed roles", field="role", code="not_listed")
    return Role(value)


async def _link_states(
    uow: UnitOfWork, where: ui.Where, agents: list[Agent]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each agent's password state: chosen, a link waiting (until when), expired, none."""
    now = uow.clock.now()
    latest: dict[uuid.UUID, SetupLink] = {}
    ids = [a.id for a in agents]
    rows = await uow.session.scalars(
        select(SetupLink).where(SetupLink.agent_id.in_(ids)).order_by(SetupLink.created_at)
    )
    for row in rows:
        latest[row.agent_id] = row
    logins: dict[uuid.UUID | None, datetime] = {
        agent_id: at
        for agent_id, at in await uow.session.execute(
            select(WebSession.agent_id, func.max(WebSession.created_at))
            .where(WebSession.agent_id.in_(ids), WebSession.kind == SessionKind.AGENT)
            .group_by(WebSession.agent_id)
        )
    }
    states: dict[uuid.UUID, dict[str, Any]] = {}
    for agent in agents:
        link = latest.get(agent.id)
        if agent.password_hash:
            state = "chosen"
        elif link is None:
            state = "none"
        elif link.used_at is None and link.expires_at > now:
            state = "sent"
        else:
            state = "expired"
        login = logins.get(agent.id)
        states[agent.id] = {
            "state": state,
            "sent_at": where.local(link.created_at) if link else None,
            "until": where.local(link.expires_at) if link else None,
            "last_login": where.local(login) if login else None,
        }
    return states


@get(paths.AGENTS, include_in_schema=False)
async def agents_list(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The organisation's agents: name, e-mail, role, active, last login, password state."""
    office.require_admin_role()
    where = await ui.where(uow, office.actor)
    rows = await accounts.members(
        uow, actor=office.actor, organisation_id=office.acting.organisation_id
    )
    states = await _link_states(uow, where, [a for a, _ in rows])
    context = {
        "admin": paths,
        "rows": [
            {"agent": a, "role": r.value, "url": url(paths.AGENT, a.id), **states[a.id]}
            for a, r in rows
        ],
        "done": _done(request),
    }
    return ui.page(request, office, "admin_agents", "administration", context)


def _new_page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    context = {
        "admin": paths,
        "roles": [r.value for r in ROLES],
        "values": values or {"role": Role.REFERENT.value},
        "errors": errors or {},
    }
    return ui.page(request, office, "admin_agent_new", "administration", context, status=status)


@get(paths.AGENT_NEW, include_in_schema=False)
async def new_agent_form(request: Request[Any, Any, Any], office: Office) -> Response[str]:
    """The form to add an agent to the organisation."""
    office.require_admin_role()
    return _new_page(request, office)


def _name(errors: ui.Refusals, value: str, field: str) -> str:
    if not value:
        errors.add(Invalid("required", field=field, code=f"{field}_missing"))
    elif len(value) > MAX_NAME:
        errors.add(Invalid("too long", field=field, code="name_too_long"))
    return value


@post(paths.AGENT_NEW, include_in_schema=False, status_code=303)
async def create_agent(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Add an agent (the API's service and rules), then e-mail them their password link
    unless they already have a password (someone who already had an account)."""
    office.require_admin_role()
    form = await ui.Form.of(request)
    values = form.values()
    errors = ui.Refusals()
    first_name = _name(errors, form.get("first_name"), "first_name")
    last_name = _name(errors, form.get("last_name"), "last_name")
    email = form.get("email")
    if not email:
        errors.add(Invalid("required", field="email", code="agent_email_missing"))
    elif len(email) > 254:
        errors.add(Invalid("not an e-mail address", field="email"))
    role = errors.take(_role, form.get("role"))
    agent = None
    if not errors:
        assert role is not None
        try:
            agent = await service.create_agent(
                uow=uow,
                actor=office.actor,
                organisation_id=office.acting.organisation_id,
                role=role,
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
        except (Invalid, Conflict) as exc:
            errors.add(exc)
    if errors or agent is None:
        return _new_page(request, office, values=values, errors=errors.by_key, status=422)
    if agent.password_hash:
        return redirect(url(paths.AGENT, agent.id) + "?fait=agent-ajoute")
    if role == Role.PARTNER:  # no back office: the committees' e-mails and feed are theirs
        return redirect(url(paths.AGENT, agent.id) + "?fait=partenaire-ajoute")
    await _send_link(request, uow, office, agent.id)
    return redirect(url(paths.AGENT, agent.id) + "?fait=agent-cree")


async def _send_link(
    request: Request[Any, Any, Any], uow: UnitOfWork, office: OfficeUser, agent_id: uuid.UUID
) -> None:
    await messages.send_setup_link(
        uow,
        secret_key=request.app.state.secret_key,
        agent_id=agent_id,
        created_by=office.agent.id,
        organisation_id=office.acting.organisation_id,
        territory_id=office.acting.territory_id,
    )


async def _agent_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    agent_id: uuid.UUID,
    *,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    agent, membership = await accounts.member(
        uow, actor=office.actor, organisation_id=office.acting.organisation_id, agent_id=agent_id
    )
    where = await ui.where(uow, office.actor)
    context = {
        "admin": paths,
        "agent": agent,
        "role": Role(membership.role).value,
        "roles": [r.value for r in ROLES],
        "myself": agent.id == office.agent.id,
        "state": (await _link_states(uow, where, [agent]))[agent.id],
        "role_url": url(paths.AGENT, agent.id),
        "active_url": url(paths.AGENT_DEACTIVATE, agent.id),
        "link_url": url(paths.AGENT_LINK, agent.id),
        "errors": errors or {},
        "done": _done(request),
    }
    return ui.page(request, office, "admin_agent", "administration", context, status=status)


@get(paths.AGENT, include_in_schema=False)
async def agent_page(
    request: Request[Any, Any, Any], uow: Uow, office: Office, agent_id: FromPath[uuid.UUID]
) -> Response[str]:
    """One agent of the organisation: role, whether active, their password link."""
    office.require_admin_role()
    return await _agent_page(request, uow, office, agent_id)


@post(paths.AGENT, include_in_schema=False, status_code=303)
async def change_role(
    request: Request[Any, Any, Any], uow: Uow, office: Office, agent_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change the agent's role in the organisation (never leaving it without an admin)."""
    office.require_admin_role()
    form = await ui.Form.of(request)
    errors = ui.Refusals()
    role = errors.take(_role, form.get("role"))
    if role is not None:
        try:
            await accounts.change_role(
                uow,
                actor=office.actor,
                organisation_id=office.acting.organisation_id,
                agent_id=agent_id,
                role=role,
            )
        except Conflict as exc:
            errors.add(exc)
    if errors:
        return await _agent_page(request, uow, office, agent_id, errors=errors.by_key, status=422)
    return redirect(url(paths.AGENT, agent_id) + "?fait=role")


@post(paths.AGENT_DEACTIVATE, include_in_schema=False, status_code=303)
async def set_active(
    request: Request[Any, Any, Any], uow: Uow, office: Office, agent_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Deactivate the agent (``actif=0``: their sessions and password links end, their API
    keys stop working) or reactivate them (``actif=1``)."""
    office.require_admin_role()
    form = await ui.Form.of(request)
    active = form.get("actif") == "1"
    errors = ui.Refusals()
    try:
        await accounts.set_active(
            uow,
            actor=office.actor,
            organisation_id=office.acting.organisation_id,
            agent_id=agent_id,
            active=active,
        )
    except (Invalid, Conflict) as exc:
        errors.add(exc)
    if errors:
        return await _agent_page(request, uow, office, agent_id, errors=errors.by_key, status=422)
    if not active:
        await sessions.end_sessions_of(uow, agent_id=agent_id)
        await setup_links.end_links(uow, agent_id)
    return redirect(
        url(paths.AGENT, agent_id) + ("?fait=reactive" if active else "?fait=desactive")
    )


@post(paths.AGENT_LINK, include_in_schema=False, status_code=303)
async def send_link(
    request: Request[Any, Any, Any], uow: Uow, office: Office, agent_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """E-mail the agent a new link to choose their password (the earlier one stops working)."""
    office.require_admin_role()
    agent, _ = await accounts.member(
        uow, actor=office.actor, organisation_id=office.acting.organisation_id, agent_id=agent_id
    )
    if not agent.active:
        errors = {"link": ui.Refusal("agent_inactive", "link")}
        return await _agent_page(request, uow, office, agent_id, errors=errors, status=422)
    await _send_link(request, uow, office, agent_id)
    return redirect(url(paths.AGENT, agent_id) + "?fait=lien-envoye")


ROUTES: list[ControllerRouterHandler] = [
    agents_list,
    new_agent_form,
    create_agent,
    agent_page,
    change_role,
    set_active,
    send_link,
]
