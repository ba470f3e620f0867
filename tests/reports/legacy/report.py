"""The SLA report as it was before the report-speed work (commit b15a8b8), kept as an oracle:
the new build_report must give the same figures. Its business-time refresh is the former one too
(a separate transaction before the report).

Each figure is one aggregate SQL query over the scope (see scope.py); Python only merges the
per-group rows and formats them. Percentiles are nearest-rank (see percentiles.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from router.reports.business import BATCH, BusinessClock, _fingerprint, _measure, current_clock
from rules.outcome import Priority
from tests.reports.legacy import figures, timeline
from tests.reports.legacy.percentiles import EMPTY, TOTAL, Distribution, GroupKey
from tests.reports.legacy.query import as_utc, dialect_of, fetch
from tests.reports.legacy.scope import ReportFilter, Scope
from tests.reports.legacy.sla import breached_cases, case_figures

PERCENTILE_METHOD = "nearest-rank: the value at 1-based position ceil(p/100 * n) of the sorted values"
BREACH_LIST_LIMIT = 500
REPORT_WORK_MEM = "64MB"
TIME_FIGURES = ("first_response_s", "next_response_s", "resolution_s")


def build_report(engine: Engine, flt: ReportFilter) -> dict[str, Any]:
    refresh(engine, flt)
    with engine.connect() as conn:
        scope = Scope(dialect_of(conn), flt)
        if scope.dialect.is_pg:  # the ranking sorts stay in memory; SET LOCAL ends with this read
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        groups, totals = _groups(conn, scope)
        bounds = timeline.period_bounds(conn, scope)
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
            "handoffs": figures.handoff_flows(conn, scope),
            "breaches_list": breached_cases(conn, scope, limit=BREACH_LIST_LIMIT),
            "first_response_histogram": totals.pop("histogram"),
            "heatmap": timeline.heatmap(conn, scope),
            "trend": timeline.trend(conn, scope, *bounds) if bounds else [],
            "backlog": timeline.backlog(conn, scope, *bounds) if bounds else [],
        }
        for group in groups:
            group.pop("histogram", None)
    return out


def refresh(engine: Engine, flt: ReportFilter, clock: BusinessClock | None = None) -> int:
    """Measure the scope's stale cases; returns how many were measured."""
    clock = clock or current_clock()
    if clock is None:
        return 0
    done = 0
    names = sorted(clock.fingerprints)
    expected = "".join(f"WHEN c.sla_policy = :pn{i} THEN :pf{i} " for i in range(len(names)))
    expected = f"(CASE {expected}ELSE '' END)" if names else "''"
    values = {f"pn{i}": name for i, name in enumerate(names)}
    values |= {f"pf{i}": _fingerprint(clock, name) for i, name in enumerate(names)}
    with engine.begin() as conn:
        scope = Scope(dialect_of(conn), ReportFilter(start=flt.start, end=flt.end, as_of=flt.as_of))
        stale_where = f"(r.case_id IS NULL OR r.case_updated_at <> c.updated_at OR r.calendar <> {expected})"
        rows = fetch(
            conn,
            "SELECT c.id, c.sla_policy, c.updated_at "
            + scope.from_cases(join="LEFT JOIN report_case_times r ON r.case_id = c.id", where=stale_where),
            scope,
            values,
        )
        stale = [(int(cid), policy, as_utc(updated)) for cid, policy, updated in rows]
        for i in range(0, len(stale), BATCH):
            _measure(conn, scope, clock, stale[i : i + BATCH])
            done += len(stale[i : i + BATCH])
    return done


def _groups(conn: Connection, scope: Scope) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one dict per group, the totals); every figure comes from a handful of grouped queries."""
    counts = case_figures(conn, scope)
    posts = figures.post_counts(conn, scope)
    times = {**figures.case_times(conn, scope), "next_response_s": figures.turn_times(conn, scope)}
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
