"""The audit table: one row each time an agent is shown a person's file.

Rows hold ids and a code naming what was read, never a name or a detail of the file. Neither
the person nor the agent is a foreign key: the trail outlives the agent's account. The
retention purge empties a person's row in place, so the person's territory (who may read the
trail) stays known.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Base


class FileRead(Base):
    """An agent was shown (part of) a person's file: a page, an API answer, an e-mail."""

    __tablename__ = "file_read"
    __table_args__ = (
        Index("ix_file_read_person_id_at", "person_id", "at"),
        Index("ix_file_read_at", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime]
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    what: Mapped[str] = mapped_column(String(32))  # a Read value
