"""SLA clock state on cases: policy version, pauses, and the earliest running due time

Revision ID: 0004_sla_clock
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_sla_clock"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("sla_policy_version", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("sla_pauses", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_cases_status_next_due", ["status", "next_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_status_next_due")
        batch.drop_column("next_due_at")
        batch.drop_column("sla_pauses")
        batch.drop_column("sla_policy_version")
