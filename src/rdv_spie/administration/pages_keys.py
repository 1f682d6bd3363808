"""The admins' page of API keys: every key of their organisation's agents (name, beginning,
owner, created, last use, revoked), a new key for themselves, shown once on the page that
creates it and never again (only its SHA-256 is kept), and revoking any of the listed keys.

A key acts with its owner's rights, so an admin creates keys for themselves only (an
information system gets an agent of its own); they may revoke any key of their organisation's
agents. Admins of the organisation the agent acts for only.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import paths
from rdv_spie.agents import accounts, api_keys
from rdv_spie.agents.models import Agent
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

MAX_LABEL = 100


def revoke_url(key_id: uuid.UUID) -> str:
    """The form action that revokes one key."""
    return paths.API_KEY_REVOKE.replace("{key_id:uuid}", str(key_id))


async def _owners(uow: UnitOfWork, office: OfficeUser) -> dict[uuid.UUID, Agent]:
    rows = await accounts.members(
        uow, actor=office.actor, organisation_id=office.acting.organisation_id
    )
    return {agent.id: agent for agent, _ in rows}


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    *,
    secret: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    owners = await _owners(uow, office)
    where = await ui.where(uow, office.actor)
    keys = await api_keys.keys_of(uow, frozenset(owners))
    context = {
        "admin": paths,
        "keys": [
            {
                "id": k.id,
                "label": k.label,
                "prefix": k.prefix,
                "owner": owners[k.agent_id],
                "mine": k.agent_id == office.agent.id,
                "created": where.local(k.created_at),
                "last_used": where.local(k.last_used_at) if k.last_used_at else None,
                "revoked": where.local(k.revoked_at) if k.revoked_at else None,
                "revoke_url": revoke_url(k.id),
            }
            for k in keys
        ],
        "secret": secret,
        "values": values or {},
        "errors": errors or {},
        "done": "cle-revoquee" if request.query_params.get("fait") == "cle-revoquee" else None,
    }
    return ui.page(request, office, "admin_keys", "administration", context, status=status)


@get(paths.API_KEYS, include_in_schema=False)
async def keys_page(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The organisation's API keys, and the form to create one."""
    office.require_admin_role()
    return await _page(request, uow, office)


@post(paths.API_KEYS, include_in_schema=False, status_code=200)
async def create_key(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """A new key of one's own, shown on this answer only."""
    office.require_admin_role()
    form = await ui.Form.of(request)
    label = form.get("label")
    errors = ui.Refusals()
    if not label:
        errors.add(Invalid("required", field="label", code="label_missing"))
    elif len(label) > MAX_LABEL:
        errors.add(Invalid("too long", field="label", code="label_too_long"))
    if errors:
        return await _page(
            request, uow, office, values=form.values(), errors=errors.by_key, status=422
        )
    issued = await api_keys.create_api_key(uow=uow, agent_id=office.agent.id, label=label)
    return await _page(request, uow, office, secret=issued.secret, status=201)


@post(paths.API_KEY_REVOKE, include_in_schema=False, status_code=303)
async def revoke_key(uow: Uow, office: Office, key_id: FromPath[uuid.UUID]) -> Redirect:
    """Revoke a key of the organisation's agents: the next API call with it is refused."""
    office.require_admin_role()
    owners = await _owners(uow, office)
    await api_keys.revoke(uow, key_id=key_id, agent_ids=frozenset(owners))
    return redirect(f"{paths.API_KEYS}?fait=cle-revoquee")


ROUTES: list[ControllerRouterHandler] = [keys_page, create_key, revoke_key]
