"""Web pages: browser sessions, rate counters, identity-check lock, per-type online cut-offs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = rdv_spie.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("journey_id", sa.Uuid(), nullable=True),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("verified_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_seen_at", _UTC(timezone=True), nullable=False),
        sa.Column("expires_at", _UTC(timezone=True), nullable=False),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
            name=op.f("fk_web_session_agent_id_agent"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journey.id"],
            name=op.f("fk_web_session_journey_id_journey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_web_session_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_session_journey_id"), ["journey_id"], unique=False)
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_started_at", _UTC(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_counter")),
    )
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("identity_locked_at", _UTC(timezone=True), nullable=True))
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("online_cancel", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("cancel_cutoff_minutes", sa.Integer(), nullable=False, server_default="240")
        )
        batch_op.add_column(
            sa.Column("move_cutoff_minutes", sa.Integer(), nullable=False, server_default="2880")
        )
        batch_op.add_column(sa.Column("what_to_bring", sa.Text(), nullable=True))
        batch_op.create_check_constraint("cancel_cutoff_not_negative", "cancel_cutoff_minutes >= 0")
        batch_op.create_check_constraint("move_cutoff_not_negative", "move_cutoff_minutes >= 0")


def downgrade() -> None:
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.drop_constraint("move_cutoff_not_negative", type_="check")
        batch_op.drop_constraint("cancel_cutoff_not_negative", type_="check")
        batch_op.drop_column("what_to_bring")
        batch_op.drop_column("move_cutoff_minutes")
        batch_op.drop_column("cancel_cutoff_minutes")
        batch_op.drop_column("online_cancel")
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("identity_locked_at")
        batch_op.drop_column("identity_failures")
    op.drop_table("rate_counter")
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_journey_id"))
        batch_op.drop_index(batch_op.f("ix_web_session_agent_id"))
    op.drop_table("web_session")
