"""The audit table: one row each time an agent is shown a person's file.

Rows hold ids and a code naming what was read, never a name or a detail of the file. The
person's id is not a foreign key: the trail of who read a file outlives the file itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from rdv_spie.db.base import Base


class FileRead(Base):
    """An agent was shown (part of) a person's file through a page or the API."""

    __tablename__ = "file_read"
    __table_args__ = (
        Index("ix_file_read_person_id_at", "person_id", "at"),
        Index("ix_file_read_at", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime]
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    what: Mapped[str] = mapped_column(String(32))  # a Read value
