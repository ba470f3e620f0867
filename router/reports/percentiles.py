"""Percentiles in SQL, by the nearest-rank method, the same on PostgreSQL and SQLite.

Nearest rank: sort the n values of a group ascending; the p-th percentile is the value at
1-based position k = ceil(p * n / 100). So it is always a value that occurred (never an
average of two), the p50 of an even-sized set is the lower middle value, and the p100 is the
max. In SQL, k is (p * n + 99) / 100 in integer arithmetic, and the ranks come from
ROW_NUMBER() OVER (PARTITION BY group ORDER BY value) with COUNT(*) OVER (PARTITION BY group).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import Connection

from router.reports.query import fetch
from router.reports.scope import Scope

PERCENTILES = (50, 90, 95)
GroupKey = tuple[Any, ...]


class Distribution(TypedDict):
    n: int
    p50: int | None
    p90: int | None
    p95: int | None
    max: int | None


EMPTY: Distribution = {"n": 0, "p50": None, "p90": None, "p95": None, "max": None}


def nearest_rank_sql(values_sql: str, keys: Sequence[str]) -> str:
    """`values_sql` selects columns `keys…` and `v`; the result has one row per group with
    keys…, n, p50, p90, p95, max (NULL values are left out before ranking)."""
    key_list = ", ".join(keys)
    partition = f"PARTITION BY {key_list} " if keys else ""
    key_select = f"{key_list}, " if keys else ""
    picks = ", ".join(f"MAX(CASE WHEN rn = ({p} * n + 99) / 100 THEN v END) AS p{p}" for p in PERCENTILES)
    group = f" GROUP BY {key_list}" if keys else ""
    return (
        f"WITH vals AS ({values_sql}), ranked AS ("
        f"SELECT {key_select}v, ROW_NUMBER() OVER ({partition}ORDER BY v) AS rn, "
        f"COUNT(*) OVER ({partition.strip()}) AS n FROM vals WHERE v IS NOT NULL) "
        f"SELECT {key_select}MAX(n) AS n, {picks}, MAX(v) AS vmax FROM ranked{group}"
    )


def distributions(
    conn: Connection, scope: Scope, value_sql: str, *, source: str | None = None
) -> dict[GroupKey, Distribution]:
    """Percentiles of `value_sql` (an expression over `c`) for each group of the scope's cases.
    `source` replaces the default FROM clause (it must still expose the group expressions)."""
    keys = scope.key_names()
    values = f"SELECT {scope.select_keys()}{value_sql} AS v {source or scope.from_cases()}"
    out: dict[GroupKey, Distribution] = {}
    for row in fetch(conn, nearest_rank_sql(values, keys), scope):
        key = tuple(row[: len(keys)])
        n, p50, p90, p95, vmax = row[len(keys) :]
        if n is None:  # no values at all (an ungrouped aggregate still returns one row)
            continue
        out[key] = {"n": int(n), "p50": _int(p50), "p90": _int(p90), "p95": _int(p95), "max": _int(vmax)}
    return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
