"""A territory's opening-hours counter: a booking no longer makes the next slot search read
every opening hour of the type again, only the appointments.

Processes of the previous version do not move this counter when they change opening hours:
stop them all before the new ones serve (README, "Slot cache").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "calendar_change",
        sa.Column("rules_version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("calendar_change") as batch:
        batch.drop_column("rules_version")
