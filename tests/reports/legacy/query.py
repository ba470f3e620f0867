"""Running report SQL: binds only the parameters a statement uses, with their types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.sql.elements import BindParameter

from router.reports.dialect import Dialect
from tests.reports.legacy.scope import Scope

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def dialect_of(conn: Connection) -> Dialect:
    return Dialect(conn.dialect.name)


def fetch(
    conn: Connection,
    sql: str,
    scope: Scope,
    extra: dict[str, Any] | None = None,
    extra_binds: Sequence[BindParameter[Any]] = (),
) -> list[tuple[Any, ...]]:
    used = set(_PARAM.findall(sql))
    params = {**scope.params(), **(extra or {})}
    binds = [b for b in (*scope.binds(), *extra_binds) if b.key in used]
    known = {b.key for b in binds}
    binds += [bindparam(name) for name in used - known]
    stmt = text(sql).bindparams(*binds)
    return [tuple(row) for row in conn.execute(stmt, {k: v for k, v in params.items() if k in used})]


def as_utc(value: Any) -> datetime | None:
    """A timestamp from a raw query: SQLite gives text without a zone, PostgreSQL aware values."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(value: Any) -> str | None:
    moment = as_utc(value)
    return moment.isoformat() if moment else None
