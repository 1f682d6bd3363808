"""Calendar counters per territory: a booking in one territory no longer empties every
territory's caches, nor queues behind every other writer on one row.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 07:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_change",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_calendar_change_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_id", name=op.f("pk_calendar_change")),
    )


def downgrade() -> None:
    op.drop_table("calendar_change")
