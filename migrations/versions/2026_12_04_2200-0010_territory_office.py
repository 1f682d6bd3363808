"""The territory team's office: the history of imports (and the file between its preview
and its import), single-use links for agents to choose their password, and the organisation
an agent acts for in a browser session.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_setup_link",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_agent_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
            name=op.f("fk_agent_setup_link_agent_id_agent"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_agent_id"],
            ["agent.id"],
            name=op.f("fk_agent_setup_link_created_by_agent_id_agent"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_setup_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_setup_link_token_hash")),
    )
    with op.batch_alter_table("agent_setup_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_setup_link_agent_id"), ["agent_id"], unique=False
        )

    op.create_table(
        "import_run",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_kind", sa.String(length=8), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("queued_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
            name=op.f("fk_import_run_agent_id_agent"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_import_run_cohort_id_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_import_run_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_run_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_import_run_territory_id"), ["territory_id"], unique=False
        )

    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_organisation_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_web_session_acting_organisation_id_organisation"),
            "organisation",
            ["acting_organisation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_web_session_acting_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("acting_organisation_id")

    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_run_territory_id"))
        batch_op.drop_index(batch_op.f("ix_import_run_cohort_id"))

    op.drop_table("import_run")
    with op.batch_alter_table("agent_setup_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_setup_link_agent_id"))

    op.drop_table("agent_setup_link")
