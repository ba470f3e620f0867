"""The SLA report: every figure for a period and a grouping, as one JSON-ready dict.

The scope's cases are read once into a per-report table (snapshot.py); each figure is then one
aggregate SQL query over that table (or over the period's posts and events); Python only merges
the per-group rows and formats them. Percentiles are nearest-rank (see percentiles.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from router.reports import business, figures, snapshot, timeline
from router.reports.percentiles import EMPTY, TOTAL, Distribution, GroupKey
from router.reports.query import dialect_of
from router.reports.scope import ReportFilter, Scope
from router.reports.sla import breached_cases, case_figures
from rules.outcome import Priority

PERCENTILE_METHOD = "nearest-rank: the value at 1-based position ceil(p/100 * n) of the sorted values"
BREACH_LIST_LIMIT = 500
REPORT_WORK_MEM = "64MB"
TIME_FIGURES = ("first_response_s", "next_response_s", "resolution_s")


def build_report(
    engine: Engine, flt: ReportFilter, *, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """The report for `flt`. With `timings`, adds the seconds each section took (bench/)."""
    timed = _Timer(timings)
    with ThreadPoolExecutor(max_workers=1) as pool, engine.connect() as conn:
        scope = Scope(dialect_of(conn), flt)
        # PostgreSQL: what does not need the report's table runs meanwhile on a second connection
        ahead = (flt.start, flt.end) if flt.start and flt.end else None  # the backlog's bounds, if known
        apart = pool.submit(_apart, engine, scope.on(None), ahead, timed) if scope.dialect.is_pg else None
        _tune(conn, scope)
        with timed("cases"):
            table = snapshot.create(conn, scope)
        with timed("business_refresh"):
            measured = business.refresh(conn, table)
        with timed("bounds"):
            bounds = timeline.period_bounds(conn, table)
        counts, posts, hourly, times, ack = _figures(conn, table, timed)
        with timed("breaches_list"):
            breaches = breached_cases(conn, table, limit=BREACH_LIST_LIMIT)
        with timed("trend"):
            trend = timeline.trend(conn, table, *bounds) if bounds else []
        with timed("backlog"):
            arrived = timeline.arrivals(conn, table)
        if apart:
            with timed("wait_for_parallel"):
                turns, handoffs, backlog_counts = apart.result()
        else:
            turns, handoffs, backlog_counts = _apart_here(conn, table, bounds, timed)
            ahead = bounds
        if bounds and bounds != ahead:  # the period was open-ended: its bounds come from the cases
            with timed("backlog"):
                backlog_counts = timeline.backlog_counts(conn, table, *bounds)
        if apart and measured:  # business times of turns measured just now: not committed yet
            with timed("next_response"):
                turns = figures.turn_times(conn, table)
        snapshot.drop(conn, table)
        conn.commit()  # the business times measured for this report
    backlog = timeline.backlog({**(backlog_counts or {}), **arrived}, *bounds) if bounds else []
    times["next_response_s"] = turns
    groups, totals = _groups(flt, counts, posts, times, ack)
    out: dict[str, Any] = {
        "period": {
            "from": flt.start.isoformat() if flt.start else None,
            "to": flt.end.isoformat() if flt.end else None,
            "as_of": flt.as_of.isoformat(),
            "group_by": list(flt.group_by),
            "filters": {k: list(v) for k, v in flt.where.items()},
            "percentiles": PERCENTILE_METHOD,
            "timezone": "UTC",
        },
        "groups": groups,
        "totals": totals,
        "handoffs": handoffs,
        "breaches_list": breaches,
        "first_response_histogram": totals.pop("histogram"),
        "heatmap": timeline.heatmap(hourly),
        "trend": trend,
        "backlog": backlog,
    }
    for group in groups:
        group.pop("histogram", None)
    return out


class _Timer:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.timings is not None:
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started


def _tune(conn: Connection, scope: Scope) -> None:
    if scope.dialect.is_pg:  # the sorts stay in memory; SET LOCAL ends with this transaction
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        # compiling these short statements to machine code costs more than it saves
        conn.exec_driver_sql("SET LOCAL jit = off")


Apart = tuple[figures.Figures, list[dict[str, Any]], timeline.Counts | None]


def _apart(engine: Engine, scope: Scope, bounds: tuple[datetime, datetime] | None, timed: _Timer) -> Apart:
    """Next response, handoffs and the backlog's counts, read from the cases table on a
    connection of their own."""
    with engine.connect() as conn:
        _tune(conn, scope)
        return _apart_here(conn, scope, bounds, timed, suffix=" (parallel)")


def _apart_here(
    conn: Connection, scope: Scope, bounds: tuple[datetime, datetime] | None, timed: _Timer, suffix: str = ""
) -> Apart:
    with timed("next_response" + suffix):
        turns = figures.turn_times(conn, scope)
    with timed("handoffs" + suffix):
        handoffs = figures.handoff_flows(conn, scope)
    with timed("backlog" + suffix):
        counts = timeline.backlog_counts(conn, scope, *bounds) if bounds else None
    return turns, handoffs, counts


def _figures(conn: Connection, scope: Scope, timed: _Timer) -> tuple[Any, ...]:
    """The grouped queries over the report's table and the period's posts."""
    with timed("counts"):
        counts = case_figures(conn, scope)
    with timed("posts"):
        by_hour = figures.posts_by_hour(conn, scope)
        hourly = figures.posts_by_hour(conn, scope.regroup()) if scope.has_tags else None
        posts = figures.post_counts(by_hour, hourly)
    with timed("case_times"):
        times: dict[str, figures.Figures] = figures.case_times(conn, scope)
    with timed("pr_ack"):
        ack = figures.pr_ack(conn, scope)
    return counts, posts, hourly if hourly is not None else by_hour, times, ack


def _groups(
    flt: ReportFilter,
    counts: dict[GroupKey, dict[str, Any]],
    posts: dict[GroupKey, dict[str, int]],
    times: dict[str, figures.Figures],
    ack: dict[GroupKey, Distribution],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one dict per group, the totals) from the grouped queries' rows."""
    names = flt.group_by

    def build(key: GroupKey, labelled: dict[str, Any]) -> dict[str, Any]:
        group = _empty_group(labelled)
        found = counts.get(key)
        if found:
            group.update({k: v for k, v in found.items() if k != "_raw"})
            fr = found["sla"]["first_response"]
            group["sla_met_pct"], group["breaches"] = fr["met_pct"], fr["breached"]
        group.update(posts.get(key, {}))
        for figure in TIME_FIGURES:
            group[figure] = {clock: _dist(by_key.get(key)) for clock, by_key in times[figure].items()}
        group["pr_ack_s"] = _dist(ack.get(key))
        return group

    keys = [k for k in set(counts) | set(posts) if len(k) == len(names)] if names else []
    groups = [build(k, _key(names, k)) for k in sorted(keys, key=_sort_key)]
    return groups, build(TOTAL, {})


def _empty_group(key: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "cases": 0,
        "answered": 0,
        "resolved": 0,
        "inbound_posts": 0,
        "replies": 0,
        "sla_met_pct": None,
        "breaches": 0,
        "breach_causes": {"unassigned": 0, "assigned_unanswered": 0, "waiting_approval": 0},
        "pr_pages": 0,
        "sla": {},
        "histogram": [],
        **{figure: {"wall": _dist(None), "business": _dist(None)} for figure in TIME_FIGURES},
        "handoffs": 0,
        "pr_ack_s": _dist(None),
    }


def _dist(d: Distribution | None) -> dict[str, Any]:
    d = d or EMPTY
    return {"n": d["n"], "p50": d["p50"], "p90": d["p90"], "p95": d["p95"], "max": d["max"]}


_LABELS: dict[str, Callable[[Any], Any]] = {
    "priority": lambda v: Priority(int(v)).label if v is not None else None,
}


def _key(names: tuple[str, ...], key: GroupKey) -> dict[str, Any]:
    return {name: _LABELS.get(name, lambda v: v)(value) for name, value in zip(names, key, strict=True)}


def _sort_key(key: GroupKey) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, str(value)) for value in key)
