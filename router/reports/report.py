"""The SLA report: every figure for a period and a grouping, as one JSON-ready dict.

Each figure is one aggregate SQL query over the scope (see scope.py); Python only merges the
per-group rows and formats them. Percentiles are nearest-rank (see percentiles.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from router.reports import business, figures, timeline
from router.reports.percentiles import EMPTY, Distribution, GroupKey
from router.reports.query import dialect_of
from router.reports.scope import ReportFilter, Scope
from router.reports.sla import breached_cases, sla_counts
from rules.outcome import Priority

PERCENTILE_METHOD = "nearest-rank: the value at 1-based position ceil(p/100 * n) of the sorted values"
BREACH_LIST_LIMIT = 500
TIME_FIGURES = ("first_response_s", "next_response_s", "resolution_s")


def build_report(engine: Engine, flt: ReportFilter) -> dict[str, Any]:
    business.refresh(engine, flt)
    with engine.connect() as conn:
        scope = Scope(dialect_of(conn), flt)
        groups = _groups(conn, scope)
        totals = _groups(conn, scope.regroup())
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
            "totals": totals[0] if totals else _empty_group({}),
            "handoffs": figures.handoff_flows(conn, scope),
            "breaches_list": breached_cases(conn, scope, limit=BREACH_LIST_LIMIT),
            "first_response_histogram": figures.first_response_histogram(conn, scope.regroup()),
            "heatmap": timeline.heatmap(conn, scope),
            "trend": timeline.trend(conn, scope, *bounds) if bounds else [],
            "backlog": timeline.backlog(conn, scope, *bounds) if bounds else [],
        }
    return out


def _groups(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    cases = figures.case_counts(conn, scope)
    posts = figures.post_counts(conn, scope)
    sla = sla_counts(conn, scope)
    handoffs = figures.handoff_counts(conn, scope)
    wall: dict[str, dict[GroupKey, Distribution]] = {
        "first_response_s": figures.first_response(conn, scope),
        "next_response_s": figures.next_response(conn, scope),
        "resolution_s": figures.resolution(conn, scope),
    }
    biz = business.distributions(conn, scope)
    ack = figures.pr_ack(conn, scope)
    names = scope.flt.group_by if scope.exprs is None else ()
    out = []
    for key in sorted(set(cases) | set(posts), key=_sort_key):
        group = _empty_group(_key(names, key))
        group.update(cases.get(key, {}))
        group.update(posts.get(key, {}))
        for figure, by_group in wall.items():
            group[figure] = {
                "wall": _dist(by_group.get(key)),
                "business": _dist(biz.get(figure, {}).get(key)),
            }
        fr = sla.get(key, {})
        if fr:
            group["sla"] = {"first_response": fr["first_response"], "resolution": fr["resolution"]}
            group["sla_met_pct"] = fr["first_response"]["met_pct"]
            group["breaches"] = fr["first_response"]["breached"]
            group["breach_causes"] = fr["breach_causes"]
        group["handoffs"] = handoffs.get(key, 0)
        group["pr_ack_s"] = _dist(ack.get(key))
        out.append(group)
    return out


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
