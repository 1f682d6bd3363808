"""CTO committees: series, members, sessions, situation requests.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cto_series",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rrule", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Uuid(), nullable=True),
        sa.Column("video_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("deadline_days_before", sa.Integer(), nullable=False),
        sa.Column("deadline_time", sa.Time(), nullable=False),
        sa.Column("freeze_days_before", sa.Integer(), nullable=False),
        sa.Column("dispatch_days_before", sa.Integer(), nullable=False),
        sa.Column("dispatch_time", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_cto_series_capacity_positive")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_cto_series_duration_positive")),
        sa.CheckConstraint(
            "place_id IS NOT NULL OR video_url IS NOT NULL", name=op.f("ck_cto_series_somewhere")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_cto_series_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["place.id"], name=op.f("fk_cto_series_place_id_place")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_cto_series_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cto_series")),
        sa.UniqueConstraint("territory_id", "name", name=op.f("uq_cto_series_territory_id_name")),
    )
    with op.batch_alter_table("cto_series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cto_series_territory_id"), ["territory_id"], unique=False
        )

    op.create_table(
        "cto_member",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("charter_accepted_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_cto_member_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["cto_series.id"],
            name=op.f("fk_cto_member_series_id_cto_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cto_member")),
        sa.UniqueConstraint("series_id", "agent_id", name=op.f("uq_cto_member_series_id_agent_id")),
    )
    with op.batch_alter_table("cto_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cto_member_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "cto_session",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("occurs_on", sa.Date(), nullable=False),
        sa.Column("starts_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("freeze_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatch_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("agenda_revision", sa.Integer(), nullable=False),
        sa.Column("frozen_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["cto_series.id"],
            name=op.f("fk_cto_session_series_id_cto_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_cto_session_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cto_session")),
        sa.UniqueConstraint(
            "series_id", "occurs_on", name=op.f("uq_cto_session_series_id_occurs_on")
        ),
    )
    with op.batch_alter_table("cto_session", schema=None) as batch_op:
        batch_op.create_index("ix_cto_session_freeze", ["frozen_at", "freeze_at"], unique=False)
        batch_op.create_index(
            "ix_cto_session_territory_starts", ["territory_id", "starts_at"], unique=False
        )

    op.create_table(
        "cto_request",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("referent_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("journey_id", sa.Uuid(), nullable=True),
        sa.Column("thematics", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("already_tried", sa.String(length=2000), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("urgent_reason", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agenda_number", sa.Integer(), nullable=True),
        sa.Column("carried_over_count", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Uuid(), nullable=True),
        sa.Column("decision", sa.String(length=4000), nullable=True),
        sa.Column("next_steps", sa.String(length=1000), nullable=True),
        sa.Column("decided_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT urgent OR urgent_reason IS NOT NULL", name=op.f("ck_cto_request_urgent_reason")
        ),
        sa.CheckConstraint("consent", name=op.f("ck_cto_request_consent_given")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["agent.id"],
            name=op.f("fk_cto_request_acknowledged_by_id_agent"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["agent.id"], name=op.f("fk_cto_request_decided_by_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journey.id"], name=op.f("fk_cto_request_journey_id_journey")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_cto_request_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_cto_request_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["referent_id"], ["agent.id"], name=op.f("fk_cto_request_referent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["cto_session.id"], name=op.f("fk_cto_request_session_id_cto_session")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_cto_request_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cto_request")),
    )
    with op.batch_alter_table("cto_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cto_request_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cto_request_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cto_request_referent_id"), ["referent_id"], unique=False
        )
        batch_op.create_index(
            "ix_cto_request_session_status", ["session_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_cto_request_territory_ack", ["territory_id", "acknowledged_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cto_request", schema=None) as batch_op:
        batch_op.drop_index("ix_cto_request_territory_ack")
        batch_op.drop_index("ix_cto_request_session_status")
        batch_op.drop_index(batch_op.f("ix_cto_request_referent_id"))
        batch_op.drop_index(batch_op.f("ix_cto_request_person_id"))
        batch_op.drop_index(batch_op.f("ix_cto_request_organisation_id"))

    op.drop_table("cto_request")
    with op.batch_alter_table("cto_session", schema=None) as batch_op:
        batch_op.drop_index("ix_cto_session_territory_starts")
        batch_op.drop_index("ix_cto_session_freeze")

    op.drop_table("cto_session")
    with op.batch_alter_table("cto_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cto_member_agent_id"))

    op.drop_table("cto_member")
    with op.batch_alter_table("cto_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cto_series_territory_id"))

    op.drop_table("cto_series")
