"""Agent passwords: argon2id hashes (argon2-cffi's defaults), checked in constant shape.

An unknown e-mail still costs one hash verification, so response time does not tell which
addresses have an account. Never logs a password or an e-mail address.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from rdv_spie.agents.models import Agent
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid

MIN_LENGTH = 12
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher.hash("an unknown account still costs one verification")


def hash_password(password: str) -> str:
    """The argon2id hash of a new password (refused when shorter than MIN_LENGTH)."""
    if len(password) < MIN_LENGTH:
        raise Invalid(
            f"the password must be at least {MIN_LENGTH} characters long",
            field="password",
            code="password_too_short",
        )
    return _hasher.hash(password)


def matches(stored: str, password: str) -> bool:
    """Whether a password opens a stored hash."""
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def check_login(uow: UnitOfWork, email: str, password: str) -> Agent | None:
    """The active agent with this e-mail and password, else None; upgrades old hashes."""
    agent = await uow.session.scalar(
        select(Agent).where(func.lower(Agent.email) == email.strip().lower(), Agent.active)
    )
    stored = agent.password_hash if agent is not None and agent.password_hash else None
    if not matches(stored or _dummy_hash(), password) or agent is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        agent.password_hash = _hasher.hash(password)
    return agent
