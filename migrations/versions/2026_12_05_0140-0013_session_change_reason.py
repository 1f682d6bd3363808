"""CTO sessions: why a session was moved or cancelled (the members are told).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cto_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cto_session", schema=None) as batch_op:
        batch_op.drop_column("change_reason")
