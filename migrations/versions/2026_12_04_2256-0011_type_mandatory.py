"""Appointment types: whether the person is required to come (the invitation says so).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:56:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mandatory", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.drop_column("mandatory")
