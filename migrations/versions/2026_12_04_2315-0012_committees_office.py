"""Committees in the browser: the charter version a member accepted and when (a new version
asks again), and the consent sentence a referent's fiche showed the person.

Members who accepted before (a paper charter recorded by the team) are on version "1", the
first text in templates/charters/.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:15:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdv_spie.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cto_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("charter_version", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "charter_accepted_at", rdv_spie.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute("UPDATE cto_member SET charter_version = '1' WHERE charter_accepted_on IS NOT NULL")
    with op.batch_alter_table("cto_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_text", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cto_request", schema=None) as batch_op:
        batch_op.drop_column("consent_text")
    with op.batch_alter_table("cto_member", schema=None) as batch_op:
        batch_op.drop_column("charter_accepted_at")
        batch_op.drop_column("charter_version")
