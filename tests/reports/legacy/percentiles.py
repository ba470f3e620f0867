"""Percentiles in SQL, by the nearest-rank method, the same on PostgreSQL and SQLite.

Nearest rank: sort the n values of a group ascending; the p-th percentile is the value at
1-based position k = ceil(p * n / 100). So it is always a value that occurred (never an
average of two), the p50 of an even-sized set is the lower middle value, and the p100 is the
max. In SQL, k is (p * n + 99) / 100 in integer arithmetic, and the ranks come from
ROW_NUMBER() OVER (PARTITION BY group ORDER BY value) with COUNT(*) OVER (PARTITION BY group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from sqlalchemy import Connection

from tests.reports.legacy.query import fetch
from tests.reports.legacy.scope import Scope

PERCENTILES = (50, 90, 95)
GroupKey = tuple[Any, ...]


class Distribution(TypedDict):
    n: int
    p50: int | None
    p90: int | None
    p95: int | None
    max: int | None


EMPTY: Distribution = {"n": 0, "p50": None, "p90": None, "p95": None, "max": None}


TOTAL: GroupKey = ()


def _picks(value: str, rank: str, count: str) -> str:
    picks = [f"MAX({count})"]
    picks += [f"MAX(CASE WHEN {rank} = ({p} * {count} + 99) / 100 THEN {value} END)" for p in PERCENTILES]
    return ", ".join([*picks, f"MAX({value})"])


def nearest_rank_sql(values_sql: str, keys: Sequence[str], metrics: int, *, totals: bool) -> str:
    """`values_sql` selects columns `keys…` and `v0…v{metrics-1}`. The result has one row per
    group: a 0 flag, keys…, then per metric n, p50, p90, p95, max; and with `totals`, one more
    row flagged 1 over all values. NULL values sort last and are not counted, so ranks 1…n are
    exactly the values. Rank and count share one window (whole partition as the frame), so each
    metric costs one sort per grouping; the values are materialized once, so the sorts move
    narrow rows and never recompute the time arithmetic."""
    key_list = ", ".join(keys)
    over = f"PARTITION BY {key_list} " if keys else ""
    whole = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    windows, named = [], []
    for i in range(metrics):
        named.append(f"w{i} AS ({over}ORDER BY v{i} NULLS LAST {whole})")
        windows += [f"ROW_NUMBER() OVER w{i} AS r{i}", f"COUNT(v{i}) OVER w{i} AS n{i}"]
        if totals:
            named.append(f"x{i} AS (ORDER BY v{i} NULLS LAST {whole})")
            windows += [f"ROW_NUMBER() OVER x{i} AS t{i}", f"COUNT(v{i}) OVER x{i} AS m{i}"]
    columns = ", ".join([*keys, *(f"v{i}" for i in range(metrics))])
    per_group = ", ".join(_picks(f"v{i}", f"r{i}", f"n{i}") for i in range(metrics))
    sql = (
        f"WITH vals AS MATERIALIZED ({values_sql}), "
        f"ranked AS (SELECT {columns}, {', '.join(windows)} FROM vals "
        f"WINDOW {', '.join(named)}) "
        f"SELECT 0, {key_list + ', ' if keys else ''}{per_group} FROM ranked"
        + (f" GROUP BY {key_list}" if keys else "")
    )
    if totals:
        overall = ", ".join(_picks(f"v{i}", f"t{i}", f"m{i}") for i in range(metrics))
        sql += f" UNION ALL SELECT 1, {', '.join('NULL' for _ in keys)}, {overall} FROM ranked"
    return sql


Source = Callable[[Scope], str]  # the FROM clause for a scope (default: its cases)


def distributions_multi(
    conn: Connection,
    scope: Scope,
    metrics: Sequence[str],
    *,
    source: Source | None = None,
    totals: bool = True,
) -> list[dict[GroupKey, Distribution]]:
    """Percentiles of each metric (an SQL expression over `c`) per group of the scope's cases in
    one pass, plus the overall figures under the key TOTAL ()."""
    keys = scope.key_names()
    overall = totals and bool(keys) and not scope.has_tags
    values = ", ".join(f"{expr} AS v{i}" for i, expr in enumerate(metrics))
    sql = f"SELECT {scope.select_keys()}{values} {source(scope) if source else scope.from_cases()}"
    out: list[dict[GroupKey, Distribution]] = [{} for _ in metrics]
    for row in fetch(conn, nearest_rank_sql(sql, keys, len(metrics), totals=overall), scope):
        key = TOTAL if row[0] == 1 else tuple(row[1 : 1 + len(keys)])
        for i in range(len(metrics)):
            n, p50, p90, p95, vmax = row[1 + len(keys) + 5 * i : 1 + len(keys) + 5 * (i + 1)]
            if n:
                out[i][key] = {
                    "n": int(n),
                    "p50": _int(p50),
                    "p90": _int(p90),
                    "p95": _int(p95),
                    "max": _int(vmax),
                }
    if totals and keys and scope.has_tags:  # a case with two tags must count once in the totals
        for i, whole in enumerate(distributions_multi(conn, scope.regroup(), metrics, source=source)):
            if TOTAL in whole:
                out[i][TOTAL] = whole[TOTAL]
    return out


def distributions(
    conn: Connection, scope: Scope, value_sql: str, *, source: Source | None = None
) -> dict[GroupKey, Distribution]:
    return distributions_multi(conn, scope, [value_sql], source=source)[0]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
