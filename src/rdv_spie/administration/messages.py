"""The administration's message: the e-mail that lets a new agent (or one who lost it) choose
their password through a single-use link (``agents/setup_links.py``). Gathered in
``rdv_spie/messages.py``.

The row carries ids only (the link, the organisation that invites); the token is rebuilt from
the secret key when the e-mail is written, so it is in clear nowhere but in the e-mail sent.
A link used, expired or replaced by a newer one before the e-mail leaves is not sent.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from rdv_spie.administration import paths
from rdv_spie.agents import setup_links
from rdv_spie.agents.models import Agent, SetupLink
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Extra, MessageKind, Recipient
from rdv_spie.territories.models import Organisation, Territory
from rdv_spie.web import paths as office_paths

AGENT_SETUP_LINK = "agent_setup_link"
TOKEN_PARAM = "jeton"  # noqa: S105 (the link's query parameter, read by pages_password)


async def _setup_link(
    uow: UnitOfWork, n: Notification, public_url: str, secret_key: bytes
) -> Extra | str:
    """Who invites, the link and until when it works; or ``link_expired``."""
    link_id = uuid.UUID(n.params["setup_link_id"])
    link = await setup_links.live(uow, link_id)
    if link is None:
        return "link_expired"
    territory = await uow.session.get(Territory, n.territory_id)
    assert territory is not None
    inviter = (
        await uow.session.get(Agent, link.created_by_agent_id) if link.created_by_agent_id else None
    )
    organisation_id = n.params.get("organisation_id")
    organisation = (
        await uow.session.get(Organisation, uuid.UUID(organisation_id)) if organisation_id else None
    )
    token = setup_links.derive(secret_key, link_id)
    base = public_url.rstrip("/")
    return Extra(
        {
            "setup_url": f"{base}{paths.PASSWORD_SETUP}?{urlencode({TOKEN_PARAM: token})}",
            "login_url": f"{base}{office_paths.LOGIN}",
            "inviter": (
                {"first_name": inviter.first_name, "last_name": inviter.last_name}
                if inviter is not None
                else None
            ),
            "expires_at": link.expires_at.astimezone(ZoneInfo(territory.timezone)),
            "valid_hours": int(setup_links.VALID_FOR.total_seconds() // 3600),
            "email": (await _email(uow, link)),
        },
        organisation=organisation,
    )


async def _email(uow: UnitOfWork, link: SetupLink) -> str:
    agent = await uow.session.get(Agent, link.agent_id)
    return agent.email if agent is not None else ""


KINDS = (MessageKind(AGENT_SETUP_LINK, Recipient.AGENT, ("email",), build_keyed=_setup_link),)


async def send_setup_link(
    uow: UnitOfWork,
    *,
    secret_key: bytes,
    agent_id: uuid.UUID,
    created_by: uuid.UUID,
    organisation_id: uuid.UUID,
    territory_id: uuid.UUID,
) -> uuid.UUID:
    """Issue a new link for the agent (their earlier ones stop working) and write its e-mail
    in the caller's transaction; the link's id."""
    issued = await setup_links.issue(
        uow, secret_key=secret_key, agent_id=agent_id, created_by=created_by
    )
    await outbox.add(
        uow,
        territory_id=territory_id,
        name=AGENT_SETUP_LINK,
        channel="email",
        key=f"{AGENT_SETUP_LINK}:{issued.id}",
        not_before=uow.clock.now(),
        agent_id=agent_id,
        params={"setup_link_id": str(issued.id), "organisation_id": str(organisation_id)},
    )
    return issued.id
