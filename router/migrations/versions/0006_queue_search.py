"""queue search: an ordered index per queue filter, tags (GIN), text search (trigrams)

Every filter of the queue (router/web/casequery.py) walks its own (status, filter, next_due_at)
index and stops after a page. On PostgreSQL, tags are found through a GIN index (jsonb @>) and
words in posts and author handles through trigram GIN indexes (pg_trgm), so ILIKE '%word%' does
not read every post. SQLite gets the ordered indexes only.

Revision ID: 0006_queue_search
Revises: 0002_queue, 0004_sla_clock
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_queue_search"
# also after 0004_sla_clock, which adds cases.next_due_at (a merge point: with depends_on instead,
# alembic_version would not list 0004 and router/db.py would call the schema out of date)
down_revision: str | tuple[str, ...] | None = ("0002_queue", "0004_sla_clock")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERED = {
    "ix_cases_status_queue_due": ["status", "queue", "next_due_at"],
    "ix_cases_status_channel_due": ["status", "channel", "next_due_at"],
    "ix_cases_status_account_due": ["status", "account", "next_due_at"],
    "ix_cases_status_priority_due": ["status", "priority", "next_due_at"],
    "ix_cases_status_assignee_due": ["status", "assignee", "next_due_at"],
}
# (name, table, column, operator class)
GIN = [
    ("ix_cases_tags", "cases", "tags", "jsonb_path_ops"),
    ("ix_cases_author_trgm", "cases", "author_handle", "gin_trgm_ops"),
    ("ix_posts_text_trgm", "posts", "text", "gin_trgm_ops"),
]


def upgrade() -> None:
    op.drop_index("ix_cases_status_queue", table_name="cases")  # a prefix of ix_cases_status_queue_due
    for name, columns in ORDERED.items():
        op.create_index(name, "cases", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column, ops in GIN:
            op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: ops})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _, _ in reversed(GIN):
            op.drop_index(name, table_name=table)
    for name in reversed(ORDERED):
        op.drop_index(name, table_name="cases")
    op.create_index("ix_cases_status_queue", "cases", ["status", "queue"])
