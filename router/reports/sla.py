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


def cause_sql(dialect_true: str) -> tuple[str, str]:
    """(a LEFT JOIN of per-case event facts as `ev`, the CASE expression naming the cause)."""
    claim, release = events.sql_list(events.CLAIM), events.sql_list(events.RELEASE)
    asked, done = events.sql_list(events.APPROVAL_REQUESTED), events.sql_list(events.APPROVAL_DONE)
    by_due = "e.at <= x.first_response_due_at"
    facts = (
        "LEFT JOIN (SELECT e.case_id, "
        f"SUM(CASE WHEN e.action IN {claim} OR e.action IN {release} THEN 1 ELSE 0 END) AS claim_events, "
        f"SUM(CASE WHEN e.action IN {asked} OR e.action IN {done} THEN 1 ELSE 0 END) AS approval_events, "
        f"MAX(CASE WHEN e.action IN {claim} AND {by_due} THEN e.at END) AS last_claim, "
        f"MAX(CASE WHEN e.action IN {release} AND {by_due} THEN e.at END) AS last_release, "
        f"SUM(CASE WHEN e.action IN {asked} AND {by_due} THEN 1 ELSE 0 END) AS asked, "
        f"SUM(CASE WHEN e.action IN {done} AND {by_due} THEN 1 ELSE 0 END) AS answered "
        "FROM audit_events e JOIN cases x ON x.id = e.case_id "
        f"WHERE e.action IN {events.sql_list(events.CLAIM + events.RELEASE)} "
        f"OR e.action IN {events.sql_list(events.APPROVAL_REQUESTED + events.APPROVAL_DONE)} "
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


def sla_counts(conn: Connection, scope: Scope) -> dict[GroupKey, dict[str, Any]]:
    keys = scope.key_names()
    fr = ("c.first_response_at", "c.first_response_due_at")
    res = ("c.resolved_at", "c.resolution_due_at")
    facts, cause = cause_sql(scope.dialect.true())
    breached_fr = _breached(*fr)
    cause_counts = ", ".join(
        f"SUM(CASE WHEN ({breached_fr}) = 1 AND ({cause}) = '{name}' THEN 1 ELSE 0 END) AS {name}"
        for name in CAUSES
    )
    sql = (
        f"SELECT {scope.select_keys()}"
        f"SUM({_met(*fr)}) AS fr_met, SUM({breached_fr}) AS fr_breached, "
        f"SUM(CASE WHEN c.first_response_due_at IS NOT NULL THEN 1 ELSE 0 END) AS fr_targets, "
        f"SUM({_met(*res)}) AS res_met, SUM({_breached(*res)}) AS res_breached, "
        f"SUM(CASE WHEN c.resolution_due_at IS NOT NULL THEN 1 ELSE 0 END) AS res_targets, "
        f"{cause_counts} "
        f"{scope.from_cases(join=facts)}" + (f" GROUP BY {', '.join(scope.group_exprs)}" if keys else "")
    )
    out: dict[GroupKey, dict[str, Any]] = {}
    for row in fetch(conn, sql, scope):
        key, m = tuple(row[: len(keys)]), [int(v or 0) for v in row[len(keys) :]]
        fr_met, fr_breached, fr_targets, res_met, res_breached, res_targets, *causes = m
        out[key] = {
            "first_response": _target(fr_met, fr_breached, fr_targets),
            "resolution": _target(res_met, res_breached, res_targets),
            "breach_causes": dict(zip(CAUSES, causes, strict=True)),
        }
    return out


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
    facts, cause = cause_sql(scope.dialect.true())
    breached = _breached("c.first_response_at", "c.first_response_due_at") + " = 1"
    sql = (
        f"SELECT c.id, c.queue, c.channel, c.account, c.assignee, c.first_response_due_at, "
        f"({cause}) AS cause "
        f"{scope.from_cases(join=facts, where=breached)}"
        " ORDER BY c.first_response_due_at, c.id LIMIT :lim"
    )
    rows = fetch(conn, sql, scope, {"lim": limit})
    seen: dict[int, dict[str, Any]] = {}
    for case_id, queue, channel, account, assignee, due, why in rows:
        seen.setdefault(
            int(case_id),
            {
                "case_id": int(case_id),
                "queue": queue,
                "channel": channel,
                "account": account,
                "agent": assignee,
                "due_at": iso(due),
                "cause": why,
            },
        )
    return list(seen.values())
