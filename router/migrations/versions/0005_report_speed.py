"""report speed: covering index on posts by time, partial indexes on resolved/answered cases

The SLA report counts the period's posts per case, direction and hour, and walks each case's
posts for next-response turns, from the index alone: (created_at, case_id, direction, removed,
id) replaces the bare (created_at) index, which is its prefix. The backlog counts open and
recently resolved (or answered) live cases through partial indexes on resolved_at and
first_response_at instead of counting all history (router/reports/timeline.py).

Revision ID: 0005_report_speed
Revises: 0003_reports
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_report_speed"
down_revision: str | None = "0003_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "merged_into_id IS NULL AND first_inbound_at IS NOT NULL"  # the cases a report covers
POSTS_BY_TIME = ["created_at", "case_id", "direction", "removed", "id"]
PARTIAL = {"ix_cases_report_resolved": "resolved_at", "ix_cases_report_answered": "first_response_at"}


def upgrade() -> None:
    op.drop_index("ix_posts_created_at", table_name="posts")
    op.create_index("ix_posts_report_period", "posts", POSTS_BY_TIME)
    for name, column in PARTIAL.items():
        op.create_index(name, "cases", [column], postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade() -> None:
    for name in PARTIAL:
        op.drop_index(name, table_name="cases")
    op.drop_index("ix_posts_report_period", table_name="posts")
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
