"""API keys: 256-bit secrets shown once, stored as SHA-256, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, update

from rdv_spie.agents.guards import Actor, actor_from_rows
from rdv_spie.agents.models import Agent, ApiKey, Membership
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import NotFound, Unauthorized
from rdv_spie.territories.models import Organisation

_PREFIX = "rdv_"
# How precisely a key's last use is kept: one write per key per period, never one per request.
USE_PRECISION = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key: ``secret`` is never stored and never shown again."""

    id: uuid.UUID
    secret: str


def hash_secret(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(*, uow: UnitOfWork, agent_id: uuid.UUID, label: str) -> IssuedKey:
    """Issue a new key for an agent."""
    agent = await uow.session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent not found", field="agent_id")
    secret = _PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        agent_id=agent_id, label=label, prefix=secret[:10], secret_hash=hash_secret(secret)
    )
    uow.session.add(key)
    await uow.session.flush()
    return IssuedKey(id=key.id, secret=secret)


async def keys_of(uow: UnitOfWork, agent_ids: frozenset[uuid.UUID]) -> list[ApiKey]:
    """The keys of these agents (revoked ones too), newest first; never a secret."""
    rows = await uow.session.scalars(
        select(ApiKey)
        .where(ApiKey.agent_id.in_(agent_ids))
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return list(rows)


async def revoke(uow: UnitOfWork, *, key_id: uuid.UUID, agent_ids: frozenset[uuid.UUID]) -> ApiKey:
    """Revoke one of these agents' keys (at once: the next call with it is a 401); NotFound
    for any other key. Revoking twice keeps the first instant."""
    key = await uow.session.get(ApiKey, key_id)
    if key is None or key.agent_id not in agent_ids:
        raise NotFound("API key not found", field="key_id")
    if key.revoked_at is None:
        now = uow.clock.now()
        await uow.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await uow.session.refresh(key)
    return key


@cache
def _actor_statement() -> Select[*tuple[Any, ...]]:
    """Built once (every API request runs it): a key's agent and memberships."""
    return (
        select(
            ApiKey.agent_id,
            Membership.organisation_id,
            Membership.role,
            Organisation.territory_id,
            ApiKey.id,
            ApiKey.last_used_at,
        )
        .join(Agent, Agent.id == ApiKey.agent_id)
        .outerjoin(Membership, Membership.agent_id == Agent.id)
        .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            ApiKey.secret_hash == bindparam("secret_hash"),
            ApiKey.revoked_at.is_(None),
            Agent.active,
        )
        # By name: the actor's first structure on a territory is the first by name.
        .order_by(Organisation.name, Organisation.id)
    )


@dataclass(frozen=True, slots=True)
class Identified:
    """The agent behind a key, and the key's use to record (None when recorded recently)."""

    actor: Actor
    use_to_record: uuid.UUID | None


async def authenticate(*, uow: UnitOfWork, secret: str) -> Identified:
    """The agent behind a key with their memberships, in one query, or Unauthorized (unknown
    or revoked key, inactive agent); the key's id when its last use is older than
    ``USE_PRECISION`` (``record_use`` writes it after the response, in its own transaction:
    the request's transaction may be a read)."""
    if not secret.startswith(_PREFIX):
        raise Unauthorized("invalid API key")
    rows = (
        await uow.session.execute(_actor_statement(), {"secret_hash": hash_secret(secret)})
    ).all()
    if not rows:
        raise Unauthorized("invalid API key")
    actor = actor_from_rows(rows[0][0], [row[1:4] for row in rows if row[1] is not None])
    key_id, last_used_at = rows[0][4], rows[0][5]
    stale = last_used_at is None or last_used_at <= uow.clock.now() - USE_PRECISION
    return Identified(actor, key_id if stale else None)


async def record_use(db: Database, clock: Clock, key_id: uuid.UUID) -> None:
    """Stamp a key's last use (what the admins' keys page lists), at most once per
    ``USE_PRECISION``: two processes racing write it once."""
    async with db.unit_of_work(clock=clock) as uow:
        now = uow.clock.now()
        await uow.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - USE_PRECISION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
