"""Single-use links that let an agent choose their own password: valid 72 hours, one at a time.

The token is 256 bits derived (HMAC-SHA256) from the secret key and the link's id, like an
invitation's: the sender rebuilds it when it writes the e-mail, and the database keeps only
SHA-256(token), so neither the outbox, a copy of the database nor a log line holds a usable
link. Issuing a link ends the agent's earlier unused ones. Using one is a conditional UPDATE
(``used_at IS NULL`` and not expired), so two submissions racing each other set the password
once. Nobody but the agent ever sets their password; this module never logs a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from rdv_spie.agents import passwords
from rdv_spie.agents.models import Agent, SetupLink
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Expired, Invalid

VALID_FOR = timedelta(hours=72)
MAX_PASSWORD = 1024
# What every refused link says (unknown, expired, used, replaced, inactive agent alike).
LINK_INVALID = "setup_link_invalid"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link: ``token`` goes into the e-mail only (rebuilt there from the id)."""

    id: uuid.UUID
    token: str


def derive(secret_key: bytes, link_id: uuid.UUID) -> str:
    """The token of a link: 256 bits, 43 URL-safe characters."""
    mac = hmac.new(secret_key, b"agent-setup-link\x00" + link_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """What the table keeps and looks up: SHA-256 of the token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    uow: UnitOfWork, *, secret_key: bytes, agent_id: uuid.UUID, created_by: uuid.UUID | None
) -> IssuedLink:
    """A new link for an agent, valid 72 h from the clock's now; their unused links end."""
    now = uow.clock.now()
    await end_links(uow, agent_id)
    link_id = uuid.uuid4()
    token = derive(secret_key, link_id)
    uow.session.add(
        SetupLink(
            id=link_id,
            agent_id=agent_id,
            token_hash=hash_token(token),
            created_by_agent_id=created_by,
            expires_at=now + VALID_FOR,
        )
    )
    await uow.session.flush()
    return IssuedLink(link_id, token)


async def end_links(uow: UnitOfWork, agent_id: uuid.UUID) -> None:
    """The agent's unused links stop working now (a newer one, a deactivated account)."""
    now = uow.clock.now()
    await uow.session.execute(
        update(SetupLink)
        .where(
            SetupLink.agent_id == agent_id,
            SetupLink.used_at.is_(None),
            SetupLink.expires_at > now,
        )
        .values(expires_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def live(uow: UnitOfWork, link_id: uuid.UUID) -> SetupLink | None:
    """The link if it still works: unused, unexpired, its agent active."""
    row = await uow.session.execute(
        select(SetupLink, Agent.active)
        .join(Agent, Agent.id == SetupLink.agent_id)
        .where(SetupLink.id == link_id)
        .execution_options(populate_existing=True)
    )
    found = row.one_or_none()
    if found is None:
        return None
    link, active = found
    if not active or link.used_at is not None or link.expires_at <= uow.clock.now():
        return None
    return link


async def find(uow: UnitOfWork, token: str) -> SetupLink | None:
    """The working link behind a token, else None (whatever the reason)."""
    if not 32 <= len(token) <= 64:
        return None
    link_id = await uow.session.scalar(
        select(SetupLink.id).where(SetupLink.token_hash == hash_token(token))
    )
    return await live(uow, link_id) if link_id is not None else None


def check_password(password: str, email: str) -> None:
    """Invalid (field ``password``) unless the password is 12 to 1024 characters long and is
    neither the agent's e-mail address nor its part before the @."""
    if len(password) > MAX_PASSWORD:
        raise Invalid("the password is too long", field="password", code="password_too_long")
    if len(password) < passwords.MIN_LENGTH:
        raise Invalid(
            f"the password must be at least {passwords.MIN_LENGTH} characters long",
            field="password",
            code="password_too_short",
        )
    given = password.strip().lower()
    address = email.strip().lower()
    if given in (address, address.split("@", 1)[0]):
        raise Invalid(
            "the password must not be the e-mail address",
            field="password",
            code="password_is_email",
        )


async def use(uow: UnitOfWork, *, link_id: uuid.UUID, password: str) -> Agent:
    """Set the agent's password through a working link and spend it: Invalid (field
    ``password``) for a password the rules refuse, Expired (``setup_link_invalid``) when the
    link no longer works, including when another submission spent it first."""
    link = await live(uow, link_id)
    agent = await uow.session.get(Agent, link.agent_id) if link is not None else None
    if link is None or agent is None:
        raise Expired("this link no longer works", code=LINK_INVALID)
    check_password(password, agent.email)
    now = uow.clock.now()
    spent = await uow.session.execute(
        update(SetupLink)
        .where(
            SetupLink.id == link_id,
            SetupLink.used_at.is_(None),
            SetupLink.expires_at > now,
        )
        .values(used_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise Expired("this link no longer works", code=LINK_INVALID)
    agent.password_hash = passwords.hash_password(password)
    return agent
