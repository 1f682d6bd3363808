"""Personal data erased on request: who, when and why (privacy/models.PersonErasure).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 02:27:58.700492+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_erasure",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_erasure_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_erasure")),
    )


def downgrade() -> None:
    op.drop_table("person_erasure")
