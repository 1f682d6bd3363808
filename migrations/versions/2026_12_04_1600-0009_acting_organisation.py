"""Ownership: an acting organisation for every appointment, an organisation for every
availability rule, and whether a type names the agent to the person.

Existing rows are filled from what was known: an appointment from its journey's cohort, else
the structure of the agent who booked it, else of its referent, else of its place; a rule from
the agent's structure on the place's territory (the place's own structure first), else the
place's.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPOINTMENT_OWNER = """
UPDATE appointment SET acting_organisation_id = COALESCE(
  (SELECT cohort.organisation_id FROM journey JOIN cohort ON cohort.id = journey.cohort_id
    WHERE journey.id = appointment.journey_id),
  (SELECT m.organisation_id FROM membership m
     JOIN organisation o ON o.id = m.organisation_id
    WHERE m.agent_id = appointment.created_by_agent_id
      AND o.territory_id = appointment.territory_id AND m.role <> 'partner'
    ORDER BY o.name LIMIT 1),
  (SELECT m.organisation_id FROM appointment_agent aa
     JOIN membership m ON m.agent_id = aa.agent_id
     JOIN organisation o ON o.id = m.organisation_id
    WHERE aa.appointment_id = appointment.id AND aa.role = 'referent'
      AND o.territory_id = appointment.territory_id AND m.role <> 'partner'
    ORDER BY o.name LIMIT 1),
  (SELECT place.organisation_id FROM place WHERE place.id = appointment.place_id)
)
"""

_RULE_OWNER = """
UPDATE availability_rule SET organisation_id = COALESCE(
  (SELECT m.organisation_id FROM membership m
     JOIN organisation o ON o.id = m.organisation_id
     JOIN place p ON p.id = availability_rule.place_id
     JOIN organisation po ON po.id = p.organisation_id
    WHERE m.agent_id = availability_rule.agent_id
      AND o.territory_id = po.territory_id AND m.role <> 'partner'
    ORDER BY CASE WHEN m.organisation_id = p.organisation_id THEN 0 ELSE 1 END, o.name
    LIMIT 1),
  (SELECT place.organisation_id FROM place WHERE place.id = availability_rule.place_id)
)
"""


def upgrade() -> None:
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_agent_name", sa.Boolean(), nullable=False, server_default=sa.true())
        )

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_organisation_id", sa.Uuid(), nullable=True))
    op.execute(_APPOINTMENT_OWNER)
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.alter_column("acting_organisation_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_acting_organisation_id_organisation"),
            "organisation",
            ["acting_organisation_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_appointment_acting_organisation_starts",
            ["acting_organisation_id", "starts_at"],
            unique=False,
        )

    with op.batch_alter_table("availability_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
    op.execute(_RULE_OWNER)
    with op.batch_alter_table("availability_rule", schema=None) as batch_op:
        batch_op.alter_column("organisation_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_availability_rule_organisation_id_organisation"),
            "organisation",
            ["organisation_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_availability_rule_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("availability_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_rule_organisation_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_availability_rule_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("organisation_id")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_acting_organisation_starts")
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_acting_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("acting_organisation_id")

    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.drop_column("show_agent_name")
