"""The migrations build exactly the schema the models describe, with the indexes the hot queries need."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import router.model_registry  # noqa: F401

HOT_PATH_INDEXES = {
    "posts": {
        ("channel", "platform_id"),  # dedupe on every post
        ("channel", "in_reply_to"),  # joining replies that arrived first
        ("case_id", "created_at"),  # a case's conversation, thread facts
    },
    "cases": {
        ("status", "next_due_at"),  # the queue's first page: most urgent first
        ("channel", "author_handle", "created_at"),  # the author's history
    },
}


def _indexed_columns(engine, table: str) -> set[tuple[str, ...]]:
    found = inspect(engine)
    indexes = {tuple(ix["column_names"]) for ix in found.get_indexes(table)}
    uniques = {tuple(uq["column_names"]) for uq in found.get_unique_constraints(table)}
    return indexes | uniques


def test_migrations_create_the_indexes_the_hot_paths_use(engine) -> None:
    for table, wanted in HOT_PATH_INDEXES.items():
        assert wanted <= _indexed_columns(engine, table), table


def test_the_migrated_schema_matches_the_models(engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
