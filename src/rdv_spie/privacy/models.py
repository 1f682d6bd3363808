"""The privacy room's table: a person's data erased on request, who did it, when and why.

The person's row stays (emptied, ``purged_at`` set), as after the retention purge; this line
says it was a request, not the purge. The agent is not a foreign key: the line outlives the
agent's account, as the read trail does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Base


class PersonErasure(Base):
    """One erasure on request."""

    __tablename__ = "person_erasure"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500))
