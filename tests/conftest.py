"""Real services for every test: SQLite (or the PostgreSQL in DATABASE_URL, in a fresh database
of its own), the embedded Redis (or the one in REDIS_URL), and RQ workers run in-process."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="engage-test-"))
os.environ["VAR_DIR"] = str(_VAR)
_PG_ADMIN_URL = os.environ.get("DATABASE_URL")
_TEST_DB = f"engage_test_{uuid.uuid4().hex[:10]}"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TWCS_SAMPLE = SHARED_DATA / "twcs-sample.csv"


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    from router.settings import normalize_database_url

    return (
        make_url(normalize_database_url(_PG_ADMIN_URL or ""))
        .set(database=database)
        .render_as_string(hide_password=False)
    )


def _admin_exec(sql: str) -> None:
    import psycopg

    url = _pg_url("postgres").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


if _PG_ADMIN_URL:
    _admin_exec(f'CREATE DATABASE "{_TEST_DB}"')
    os.environ["DATABASE_URL"] = _pg_url(_TEST_DB)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from router.db import get_engine

    get_engine().dispose()
    if _PG_ADMIN_URL:
        _admin_exec(f'DROP DATABASE IF EXISTS "{_TEST_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_engine():  # type: ignore[no-untyped-def]
    from router import db

    engine = db.get_engine()
    db.upgrade(engine)
    return engine


@pytest.fixture
def engine(migrated_engine):  # type: ignore[no-untyped-def]
    """A migrated database, emptied before each test."""
    from sqlmodel import SQLModel

    import router.model_registry  # noqa: F401

    with migrated_engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    return migrated_engine


@pytest.fixture
def redis_conn() -> Iterator[object]:
    """The real Redis (embedded or server), flushed around each test."""
    from workers.connection import redis_connection

    conn = redis_connection()
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def var_dir() -> Path:
    return _VAR
