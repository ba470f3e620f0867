"""reports: business-time tables and the indexes the report queries use

Revision ID: 0003_reports
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_reports"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_case_times",
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("calendar", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("case_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_s", sa.Integer(), nullable=True),
        sa.Column("resolution_s", sa.Integer(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "report_turn_times",
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("next_response_s", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_report_turn_times_case_id", "report_turn_times", ["case_id"])
    # a period is a range of first customer posts; posts and events are counted by their time
    op.create_index("ix_cases_report_period", "cases", ["first_inbound_at"])
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
    op.create_index("ix_audit_events_case_id_action", "audit_events", ["case_id", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_case_id_action", table_name="audit_events")
    op.drop_index("ix_posts_created_at", table_name="posts")
    op.drop_index("ix_cases_report_period", table_name="cases")
    op.drop_index("ix_report_turn_times_case_id", table_name="report_turn_times")
    op.drop_table("report_turn_times")
    op.drop_table("report_case_times")
