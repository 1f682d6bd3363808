"""Appointment departures: an agent a move took off an appointment keeps it, cancelled, in their
calendar feed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:20:09.225794+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_departure",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("departed_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
            name=op.f("fk_appointment_departure_agent_id_agent"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_departure_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "appointment_id", "agent_id", name=op.f("pk_appointment_departure")
        ),
    )
    with op.batch_alter_table("appointment_departure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_departure_agent_starts", ["agent_id", "starts_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_departure", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_departure_agent_starts")

    op.drop_table("appointment_departure")
