"""The cases behind one figure of the SLA report: the drill-down of the /reports page.

Each figure is selected with the very condition `sla.case_figures` counts it with (the same
scope, the same breach and cause expressions), so a drill-down lists exactly the cases its
figure counts. A group is picked by its key: one value (or NULL) per grouping dimension; no
key means the totals row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from router.reports.query import dialect_of, fetch, iso
from router.reports.scope import DIMENSIONS, ReportError, ReportFilter, Scope, _priority
from router.reports.sla import CAUSES, _breached, _met, cause_sql
from rules.outcome import Priority

DRILL_LIMIT = 100_000  # the CSV's ceiling; the page shows fewer

_FR = ("c.first_response_at", "c.first_response_due_at")


def _conditions(scope: Scope, cause: str) -> dict[str, str]:
    breached = f"({_breached(*_FR)}) = 1"
    out = {
        "cases": "",
        "answered": "c.first_response_at IS NOT NULL",
        "resolved": "c.resolved_at IS NOT NULL",
        "met": f"({_met(*_FR)}) = 1",
        "breached": breached,
        "pr_pages": f"c.page_pr = {scope.dialect.true()}",
    }
    for name in CAUSES:
        out[name] = f"{breached} AND ({cause}) = '{name}'"
    return out


FIGURES = ("cases", "answered", "resolved", "met", "breached", *CAUSES, "pr_pages")
COLUMNS = (
    "case_id",
    "queue",
    "channel",
    "account",
    "priority",
    "agent",
    "author",
    "status",
    "first_inbound_at",
    "first_response_at",
    "first_response_s",
    "first_response_due_at",
    "sla",
    "cause",
)


@dataclass(frozen=True, slots=True)
class Drill:
    """One figure of one group: `key` maps each grouping dimension to its value (None = NULL);
    an empty key is the totals row."""

    flt: ReportFilter
    figure: str
    key: Mapping[str, str | None]

    def __post_init__(self) -> None:
        if self.figure not in FIGURES:
            raise ReportError(f"unknown figure {self.figure!r}; choose from {', '.join(FIGURES)}")
        if self.key and set(self.key) != set(self.flt.group_by):
            raise ReportError("the group key must name every grouping dimension, or none for the totals")


def _sql(drill: Drill, scope: Scope, *, count: bool) -> tuple[str, dict[str, Any]]:
    facts, cause = cause_sql(scope)
    clauses = [c for c in [_conditions(scope, cause)[drill.figure]] if c]
    extra: dict[str, Any] = {}
    for i, name in enumerate(drill.flt.group_by if drill.key else ()):
        value = drill.key[name]
        if value is None:
            clauses.append(f"{DIMENSIONS[name]} IS NULL")
        else:
            clauses.append(f"{DIMENSIONS[name]} = :k{i}")
            extra[f"k{i}"] = _priority(value) if name == "priority" else value
    source = scope.from_cases(join=facts, where=" AND ".join(clauses))
    if count:
        return f"SELECT COUNT(DISTINCT c.id) {source}", extra
    d = scope.dialect
    sql = (
        "SELECT DISTINCT c.id, c.queue, c.channel, c.account, c.priority, c.assignee, c.author_handle, "
        "c.status, c.first_inbound_at, c.first_response_at, "
        f"{d.seconds_between('c.first_inbound_at', 'c.first_response_at')}, c.first_response_due_at, "
        f"({_met(*_FR)}), ({_breached(*_FR)}), ({cause}) "
        f"{source} ORDER BY c.first_inbound_at, c.id LIMIT :lim"
    )
    return sql, extra


def count_cases(engine: Engine, drill: Drill) -> int:
    with engine.connect() as conn:
        scope = Scope(dialect_of(conn), drill.flt)
        sql, extra = _sql(drill, scope, count=True)
        return int(fetch(conn, sql, scope, extra)[0][0])


def drill_cases(engine: Engine, drill: Drill, *, limit: int = DRILL_LIMIT) -> list[dict[str, Any]]:
    """The cases behind the figure, oldest first, as rows of COLUMNS."""
    with engine.connect() as conn:
        return _rows(conn, drill, limit)


def _rows(conn: Connection, drill: Drill, limit: int) -> list[dict[str, Any]]:
    scope = Scope(dialect_of(conn), drill.flt)
    sql, extra = _sql(drill, scope, count=False)
    out = []
    for row in fetch(conn, sql, scope, {**extra, "lim": limit}):
        case_id, queue, channel, account, prio, agent, author, status, first_in, first_out = row[:10]
        seconds, due, met, breached, why = row[10:]
        due_at = iso(due)
        sla = "met" if met else "breached" if breached else ("pending" if due_at else "")
        out.append(
            dict(
                zip(
                    COLUMNS,
                    (
                        int(case_id),
                        queue,
                        channel,
                        account,
                        Priority(int(prio)).label if prio is not None else None,
                        agent,
                        author,
                        status,
                        iso(first_in),
                        iso(first_out),
                        int(seconds) if seconds is not None else None,
                        due_at,
                        sla,
                        why if breached else None,
                    ),
                    strict=True,
                )
            )
        )
    return out
