"""Alembic environment: the engine comes from router.db (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import router.model_registry  # noqa: F401  (every table module, so autogenerate sees them all)
from router.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine") or get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
