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
        # a queue filter walks its own index, most urgent first (0006_queue_search)
        ("status", "queue", "next_due_at"),
        ("status", "channel", "next_due_at"),
        ("status", "account", "next_due_at"),
        ("status", "priority", "next_due_at"),
        ("status", "assignee", "next_due_at"),
    },
}
POSTGRES_ONLY_INDEXES = {  # GIN: tags @> '["x"]', and ILIKE '%word%' through pg_trgm
    "cases": {("tags",), ("author_handle",)},
    "posts": {("text",)},
}


def _indexed_columns(engine, table: str) -> set[tuple[str, ...]]:
    found = inspect(engine)
    indexes = {tuple(ix["column_names"]) for ix in found.get_indexes(table)}
    uniques = {tuple(uq["column_names"]) for uq in found.get_unique_constraints(table)}
    return indexes | uniques


def test_migrations_create_the_indexes_the_hot_paths_use(engine) -> None:
    for table, wanted in HOT_PATH_INDEXES.items():
        assert wanted <= _indexed_columns(engine, table), table
    if engine.dialect.name == "postgresql":
        for table, wanted in POSTGRES_ONLY_INDEXES.items():
            assert wanted <= _indexed_columns(engine, table), table


def _on_this_database(dialect: str):  # type: ignore[no-untyped-def]
    """Alembic ignores Index.ddl_if: leave out the indexes declared for another database."""

    def include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        only = getattr(obj, "_ddl_if", None)
        return not (type_ == "index" and only is not None and only.dialect not in (None, dialect))

    return include


def test_the_migrated_schema_matches_the_models(engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": _on_this_database(engine.dialect.name)}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
