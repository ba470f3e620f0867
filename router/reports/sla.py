"""SLA met / breached per group, and the cause of each first-response breach.

A target counts as *met* when the response (or resolution) happened at or before its due time,
*breached* when it happened after it, or has not happened and the due time is before the
report's `as_of`, and *pending* otherwise. Cases without a due time have no target and count
in none of the three. `sla_met_pct` = met / (met + breached) * 100 for first response.

Cause of a first-response breach, judged at the due time D, first match wins:
1. `waiting_approval` — a reply was waiting for approval at D: more approval requests than
   approvals/rejections recorded by D (audit events in router/reports/events.py). A case with no
   approval events at all counts here when it needs approval and was assigned at D.
2. `assigned_unanswered` — someone held the case at D: the last claim/assign event by D is later
   than the last release by D. A case with no claim events at all falls back to its current
   assignee (the only thing the data model keeps without the queue's audit trail).
3. `unassigned` — nobody held it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from router.reports import events
from router.reports.percentiles import GroupKey
from router.reports.query import fetch, iso
from router.reports.scope import Scope

CAUSES = ("unassigned", "assigned_unanswered", "waiting_approval")


def _met(done: str, due: str) -> str:
    return f"CASE WHEN {due} IS NOT NULL AND {done} IS NOT NULL AND {done} <= {due} THEN 1 ELSE 0 END"


def _breached(done: str, due: str) -> str:
    return (
        f"CASE WHEN {due} IS NOT NULL AND (({done} IS NOT NULL AND {done} > {due}) "
        f"OR ({done} IS NULL AND {due} < :as_of)) THEN 1 ELSE 0 END"
    )


def cause_sql(scope: Scope, *, cases: str | None = None) -> tuple[str, str]:
    """(a LEFT JOIN of per-case event facts as `ev`, the CASE expression naming the cause).
    The facts are read for the cases of `cases` (a table or CTE name; default: the scope's
    period of the cases table); on PostgreSQL, with `cases`, through the (case_id, action, at)
    index case by case, as history grows without bound."""
    dialect_true = scope.dialect.true()
    period = scope.in_period("x.first_inbound_at")
    handoff = events.sql_list(events.HANDOFF)
    claim, release = events.sql_list(events.CLAIM), events.sql_list(events.RELEASE)
    asked, done = events.sql_list(events.APPROVAL_REQUESTED), events.sql_list(events.APPROVAL_DONE)
    lateral = bool(cases) and scope.dialect.is_pg
    by_due = f"e.at <= {'c' if lateral else 'x'}.first_response_due_at"
    columns = (
        "SELECT e.case_id, "
        f"SUM(CASE WHEN e.action IN {claim} OR e.action IN {release} THEN 1 ELSE 0 END) AS claim_events, "
        f"SUM(CASE WHEN e.action IN {asked} OR e.action IN {done} THEN 1 ELSE 0 END) AS approval_events, "
        f"MAX(CASE WHEN e.action IN {claim} AND {by_due} THEN e.at END) AS last_claim, "
        f"MAX(CASE WHEN e.action IN {release} AND {by_due} THEN e.at END) AS last_release, "
        f"SUM(CASE WHEN e.action IN {asked} AND {by_due} THEN 1 ELSE 0 END) AS asked, "
        f"SUM(CASE WHEN e.action IN {done} AND {by_due} THEN 1 ELSE 0 END) AS answered, "
        f"SUM(CASE WHEN e.action IN {handoff} THEN 1 ELSE 0 END) AS handoffs "
    )
    actions = (
        f"(e.action IN {events.sql_list(events.CLAIM + events.RELEASE + events.HANDOFF)} "
        f"OR e.action IN {events.sql_list(events.APPROVAL_REQUESTED + events.APPROVAL_DONE)})"
    )
    if lateral:
        facts = (
            f"LEFT JOIN LATERAL ({columns}FROM audit_events e WHERE e.case_id = c.id AND {actions} "
            "GROUP BY e.case_id) ev ON TRUE"
        )
    else:
        joined = f"{cases} x ON x.id = e.case_id" if cases else f"cases x ON x.id = e.case_id{period}"
        facts = (
            f"LEFT JOIN ({columns}FROM audit_events e JOIN {joined} WHERE {actions} "
            "GROUP BY e.case_id) ev ON ev.case_id = c.id"
        )
    assigned = (
        "(CASE WHEN COALESCE(ev.claim_events, 0) > 0 THEN "
        "(CASE WHEN ev.last_claim IS NOT NULL"
        " AND (ev.last_release IS NULL OR ev.last_release < ev.last_claim) THEN 1 ELSE 0 END) "
        "ELSE (CASE WHEN c.assignee IS NOT NULL THEN 1 ELSE 0 END) END)"
    )
    waiting = (
        "(CASE WHEN COALESCE(ev.approval_events, 0) > 0 THEN "
        "(CASE WHEN ev.asked > ev.answered THEN 1 ELSE 0 END) "
        f"ELSE (CASE WHEN c.needs_approval = {dialect_true} AND {assigned} = 1 THEN 1 ELSE 0 END) END)"
    )
    cause = (
        f"CASE WHEN {waiting} = 1 THEN 'waiting_approval' "
        f"WHEN {assigned} = 1 THEN 'assigned_unanswered' ELSE 'unassigned' END"
    )
    return facts, cause


BANDS = ((300, "< 5 min"), (900, "5-15 min"), (3600, "15-60 min"), (14400, "1-4 h"), (86400, "4-24 h"))
BAND_LABELS = [label for _, label in BANDS] + [">= 1 day"]
COUNTS = ("cases", "answered", "resolved", "pr_pages", "handoffs")
TARGETS = ("fr_met", "fr_breached", "fr_target", "res_met", "res_breached", "res_target")


def case_figures(conn: Connection, scope: Scope) -> dict[GroupKey, dict[str, Any]]:
    """Every count per group in one pass over the report's table of cases (snapshot.py, where each
    case's SLA outcome and breach cause are already judged), and TOTAL () when grouped."""
    keys = scope.key_names()
    columns = [
        "COUNT(*)",
        "SUM(CASE WHEN c.fr_s IS NOT NULL THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.res_s IS NOT NULL THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN c.page_pr = {scope.dialect.true()} THEN 1 ELSE 0 END)",
        "SUM(c.handoffs)",
        *(f"SUM(c.{name})" for name in TARGETS),
        *(f"SUM(CASE WHEN c.cause = '{name}' THEN 1 ELSE 0 END)" for name in CAUSES),
    ]
    low = 0
    for limit, _ in BANDS:
        columns.append(f"SUM(CASE WHEN c.fr_s >= {low} AND c.fr_s < {limit} THEN 1 ELSE 0 END)")
        low = limit
    columns.append(f"SUM(CASE WHEN c.fr_s >= {low} THEN 1 ELSE 0 END)")
    sql = f"SELECT {scope.select_keys()}{', '.join(columns)} {scope.from_cases()}" + (
        f" GROUP BY {', '.join(scope.group_exprs)}" if keys else ""
    )
    out: dict[GroupKey, dict[str, Any]] = {}
    for row in fetch(conn, sql, scope):
        key, values = tuple(row[: len(keys)]), [int(v or 0) for v in row[len(keys) :]]
        out[key] = _figures(values)
    if keys:
        if scope.has_tags:
            out[()] = case_figures(conn, scope.regroup()).get((), _figures([0] * len(columns)))
        else:
            out[()] = _figures(
                [sum(col) for col in zip(*(f["_raw"] for f in out.values()), strict=True)]
                or [0] * len(columns)
            )
    return out


def _figures(values: list[int]) -> dict[str, Any]:
    counts = dict(zip(COUNTS, values, strict=False))
    fr_met, fr_breached, fr_targets, res_met, res_breached, res_targets = values[5:11]
    causes = values[11 : 11 + len(CAUSES)]
    bands = values[11 + len(CAUSES) :]
    return {
        **counts,
        "_raw": values,
        "sla": {
            "first_response": _target(fr_met, fr_breached, fr_targets),
            "resolution": _target(res_met, res_breached, res_targets),
        },
        "breach_causes": dict(zip(CAUSES, causes, strict=True)),
        "histogram": [{"band": label, "cases": n} for label, n in zip(BAND_LABELS, bands, strict=True)],
    }


def _target(met: int, breached: int, targets: int) -> dict[str, Any]:
    judged = met + breached
    return {
        "met": met,
        "breached": breached,
        "pending": targets - judged,
        "met_pct": round(100.0 * met / judged, 1) if judged else None,
    }


def breached_cases(conn: Connection, scope: Scope, *, limit: int = 500) -> list[dict[str, Any]]:
    """The first-response breaches behind the figures, with their cause, oldest first."""
    sql = (
        "SELECT c.id, c.queue, c.channel, c.account, c.assignee, c.first_response_due_at, c.cause "
        f"{scope.regroup().from_cases(where='c.fr_breached = 1')}"
        " ORDER BY c.first_response_due_at, c.id LIMIT :lim"
    )
    return [
        {
            "case_id": int(case_id),
            "queue": queue,
            "channel": channel,
            "account": account,
            "agent": assignee,
            "due_at": iso(due),
            "cause": why,
        }
        for case_id, queue, channel, account, assignee, due, why in fetch(conn, sql, scope, {"lim": limit})
    ]
