"""Audit: who was shown which person's file.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = rdv_spie.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "file_read",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_read")),
    )
    with op.batch_alter_table("file_read", schema=None) as batch_op:
        batch_op.create_index("ix_file_read_at", ["at"], unique=False)
        batch_op.create_index("ix_file_read_person_id_at", ["person_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("file_read", schema=None) as batch_op:
        batch_op.drop_index("ix_file_read_person_id_at")
        batch_op.drop_index("ix_file_read_at")
    op.drop_table("file_read")
