"""People, cohorts' invitation settings, journeys, invitations and the notification outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:42:15.554302+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journey",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("referent_id", sa.Uuid(), nullable=True),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("invite_by_on", sa.Date(), nullable=False),
        sa.Column("appointment_by_on", sa.Date(), nullable=False),
        sa.Column("invited_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "waiting_for_slots_since", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "deadline_alerted_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("closed_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=50), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_journey_cohort_id_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_journey_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["referent_id"], ["agent.id"], name=op.f("fk_journey_referent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_journey_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey")),
        sa.UniqueConstraint(
            "person_id",
            "cohort_id",
            "entered_on",
            name=op.f("uq_journey_person_id_cohort_id_entered_on"),
        ),
    )
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_cohort_entered", ["cohort_id", "entered_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_journey_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_journey_referent_id"), ["referent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_journey_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "invitation",
        sa.Column("journey_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journey.id"],
            name=op.f("fk_invitation_journey_id_journey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("journey_id", "channel", name=op.f("uq_invitation_journey_id_channel")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_journey_id"), ["journey_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("journey_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("not_before", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=120), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("handed_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(person_id IS NULL) <> (agent_id IS NULL)", name=op.f("ck_notification_one_recipient")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_notification_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_notification_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_notification_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journey.id"],
            name=op.f("fk_notification_journey_id_journey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_notification_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_notification_territory_id_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_idempotency_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_journey_id"), ["journey_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_status_not_before", ["status", "not_before"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_territory_id"), ["territory_id"], unique=False
        )

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journey_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointment_journey_id"), ["journey_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_journey_id_journey"), "journey", ["journey_id"], ["id"]
        )

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("invite_within_days", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column("invitation_valid_days", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.add_column(
            sa.Column("reminder_days", sa.JSON(), nullable=False, server_default="[3, 7]")
        )
        batch_op.add_column(
            sa.Column("deadline_alert_days", sa.Integer(), nullable=False, server_default="7")
        )
        batch_op.add_column(
            sa.Column("send_window_start", sa.Time(), nullable=False, server_default="09:00:00")
        )
        batch_op.add_column(
            sa.Column("send_window_end", sa.Time(), nullable=False, server_default="19:00:00")
        )
        batch_op.add_column(
            sa.Column("send_weekdays", sa.Integer(), nullable=False, server_default="63")
        )
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cohort_organisation_id_organisation"),
            "organisation",
            ["organisation_id"],
            ["id"],
        )
        batch_op.create_check_constraint("delay_positive", "entry_delay_days > 0")
        batch_op.create_check_constraint("validity_positive", "invitation_valid_days > 0")
        batch_op.create_check_constraint("window_order", "send_window_end > send_window_start")
        batch_op.create_check_constraint(
            "weekdays_mask", "send_weekdays > 0 AND send_weekdays < 128"
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("caf_number", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("france_travail_id", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("departement_id", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("postcode", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("sms_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("email_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("prefers_call", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_person_territory_email", ["territory_id", "email"], unique=False)
        batch_op.create_index("ix_person_territory_phone", ["territory_id", "phone"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_person_territory_id_caf_number"), ["territory_id", "caf_number"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_person_territory_id_departement_id"), ["territory_id", "departement_id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_person_territory_id_france_travail_id"),
            ["territory_id", "france_travail_id"],
        )

    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_sender", sa.String(length=11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.drop_column("sms_sender")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_person_territory_id_france_travail_id"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_person_territory_id_departement_id"), type_="unique"
        )
        batch_op.drop_constraint(batch_op.f("uq_person_territory_id_caf_number"), type_="unique")
        batch_op.drop_index("ix_person_territory_phone")
        batch_op.drop_index("ix_person_territory_email")
        batch_op.drop_column("prefers_call")
        batch_op.drop_column("email_consent")
        batch_op.drop_column("sms_consent")
        batch_op.drop_column("postcode")
        batch_op.drop_column("departement_id")
        batch_op.drop_column("france_travail_id")
        batch_op.drop_column("caf_number")
        batch_op.drop_column("birth_on")

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cohort_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_cohort_weekdays_mask"), type_="check")
        batch_op.drop_constraint(op.f("ck_cohort_window_order"), type_="check")
        batch_op.drop_constraint(op.f("ck_cohort_validity_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_cohort_delay_positive"), type_="check")
        batch_op.drop_column("active")
        batch_op.drop_column("send_weekdays")
        batch_op.drop_column("send_window_end")
        batch_op.drop_column("send_window_start")
        batch_op.drop_column("deadline_alert_days")
        batch_op.drop_column("reminder_days")
        batch_op.drop_column("invitation_valid_days")
        batch_op.drop_column("invite_within_days")
        batch_op.drop_column("organisation_id")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_journey_id_journey"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointment_journey_id"))
        batch_op.drop_column("journey_id")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_territory_id"))
        batch_op.drop_index("ix_notification_status_not_before")
        batch_op.drop_index(batch_op.f("ix_notification_provider_id"))
        batch_op.drop_index(batch_op.f("ix_notification_person_id"))
        batch_op.drop_index(batch_op.f("ix_notification_journey_id"))
        batch_op.drop_index(batch_op.f("ix_notification_appointment_id"))
        batch_op.drop_index(batch_op.f("ix_notification_agent_id"))

    op.drop_table("notification")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_journey_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_territory_id"))
        batch_op.drop_index(batch_op.f("ix_journey_referent_id"))
        batch_op.drop_index(batch_op.f("ix_journey_person_id"))
        batch_op.drop_index("ix_journey_cohort_entered")

    op.drop_table("journey")
