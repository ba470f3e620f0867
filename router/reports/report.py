"""The SLA report: every figure for a period and a grouping, as one JSON-ready dict.

The scope's cases are read once into a per-report table (snapshot.py); each figure is then one
aggregate SQL query over that table (or over the period's posts and events); Python only merges
the per-group rows and formats them. Percentiles are nearest-rank (see percentiles.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    with engine.connect() as conn:
        scope = Scope(dialect_of(conn), flt)
        if scope.dialect.is_pg:  # the sorts stay in memory; SET LOCAL ends with this transaction
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
            # compiling these short statements to machine code costs more than it saves
            conn.exec_driver_sql("SET LOCAL jit = off")
        with timed("cases"):
            table = snapshot.create(conn, scope)
        with timed("business_refresh"):
            business.refresh(conn, table)
        with timed("bounds"):
            bounds = timeline.period_bounds(conn, table)
        groups, totals, hourly = _groups(conn, table, timed)
        with timed("handoffs"):
            handoffs = figures.handoff_flows(conn, table)
        with timed("breaches_list"):
            breaches = breached_cases(conn, table, limit=BREACH_LIST_LIMIT)
        with timed("trend"):
            trend = timeline.trend(conn, table, *bounds) if bounds else []
        with timed("backlog"):
            backlog = timeline.backlog(conn, table, *bounds) if bounds else []
        snapshot.drop(conn, table)
        conn.commit()  # the business times measured for this report
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


def _groups(
    conn: Connection, scope: Scope, timed: _Timer
) -> tuple[list[dict[str, Any]], dict[str, Any], figures.PostsByHour]:
    """(one dict per group, the totals, the period's posts by hour ungrouped); every figure comes
    from a handful of grouped queries."""
    with timed("counts"):
        counts = case_figures(conn, scope)
    with timed("posts"):
        by_hour = figures.posts_by_hour(conn, scope)
        hourly = figures.posts_by_hour(conn, scope.regroup()) if scope.has_tags else None
        posts = figures.post_counts(by_hour, hourly)
    with timed("case_times"):
        times = figures.case_times(conn, scope)
    with timed("next_response"):
        times["next_response_s"] = figures.turn_times(conn, scope)
    with timed("pr_ack"):
        ack = figures.pr_ack(conn, scope)
    names = scope.flt.group_by

    def build(key: GroupKey, labelled: dict[str, Any]) -> dict[str, Any]:
        group = _empty_group(labelled)
        found = counts.get(key)
        if found:
            group.update({k: v for k, v in found.items() if k != "_raw"})
            fr = found["sla"]["first_response"]
            group["sla_met_pct"], group["breaches"] = fr["met_pct"], fr["breached"]
        group.update(posts.get(key, {}))
        for figure, clocks in times.items():
            group[figure] = {clock: _dist(by_key.get(key)) for clock, by_key in clocks.items()}
        group["pr_ack_s"] = _dist(ack.get(key))
        return group

    keys = [k for k in set(counts) | set(posts) if len(k) == len(names)] if names else []
    groups = [build(k, _key(names, k)) for k in sorted(keys, key=_sort_key)]
    return groups, build(TOTAL, {}), hourly if hourly is not None else by_hour


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
