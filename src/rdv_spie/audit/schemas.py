"""HTTP shapes of the audit room."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class FileReadOut(msgspec.Struct, kw_only=True):
    """One time an agent was shown the person's file, and through what."""

    at: datetime
    agent_id: uuid.UUID
    agent_name: str | None  # None once the agent's account is gone
    what: str
