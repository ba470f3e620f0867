"""Engine, sessions and schema version: one engine per process, migrations by Alembic."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from router.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    _fresh_pool_after_fork(engine)
    return engine


def _fresh_pool_after_fork(engine: Engine) -> None:
    """A forked child (an RQ work horse) must not use the parent's pooled connections: two
    processes on one socket corrupt the session (psycopg: DuplicatePreparedStatement)."""
    ref = weakref.ref(engine)

    def forget() -> None:
        if (alive := ref()) is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web process read while a worker or an ingest writes.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine | None = None, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (what `engage db upgrade` runs)."""
    engine = engine or get_engine()
    command.upgrade(alembic_config(engine), revision)


def head_revisions() -> frozenset[str]:
    """What this code needs; more than one when features were migrated on parallel branches."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


def current_revision(engine: Engine) -> str:
    return ", ".join(sorted(current_revisions(engine))) or "none"


def ensure_schema_current(engine: Engine | None = None) -> None:
    """Refuse to run on a database whose schema is not the one this code expects."""
    engine = engine or get_engine()
    current, heads = current_revisions(engine), head_revisions()
    if current != heads:
        raise SchemaOutOfDate(
            f"database schema is at revision {', '.join(sorted(current)) or 'none (empty database)'}, "
            f"this version needs {', '.join(sorted(heads))}: run `engage db upgrade`"
        )
