"""Per-group figures computed in SQL: volume, response-time distributions, handoffs, PR pages.

Time figures, in whole seconds:
- first response: the case's first reply at or after its first customer post, minus that post;
- next response: for each later customer post that follows one of our replies (the customer
  spoke again, so we owe an answer again), the time to our next reply;
- resolution: resolved_at minus the first customer post, for resolved cases;
- PR time to acknowledge: first acknowledge event minus the first page event (or, without a page
  event, the first customer post) for cases that paged PR.
Volume counts posts created in the period, attributed to their case's group; posts outside any
case (our announcements, replies to conversations we never stored) are not counted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from router.reports import events
from router.reports.percentiles import Distribution, GroupKey, distributions
from router.reports.query import fetch
from router.reports.scope import Scope


def _group_by(scope: Scope) -> str:
    return f" GROUP BY {', '.join(scope.group_exprs)}" if scope.group_exprs else ""


def case_counts(conn: Connection, scope: Scope) -> dict[GroupKey, dict[str, int]]:
    sql = (
        f"SELECT {scope.select_keys()}COUNT(*) AS cases, "
        "SUM(CASE WHEN c.first_response_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, "
        "SUM(CASE WHEN c.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, "
        f"SUM(CASE WHEN c.page_pr = {scope.dialect.true()} THEN 1 ELSE 0 END) AS pr_pages "
        f"{scope.from_cases()}{_group_by(scope)}"
    )
    n = len(scope.group_exprs)
    return {
        tuple(row[:n]): dict(
            zip(("cases", "answered", "resolved", "pr_pages"), (int(v or 0) for v in row[n:]), strict=True)
        )
        for row in fetch(conn, sql, scope)
    }


def post_counts(conn: Connection, scope: Scope) -> dict[GroupKey, dict[str, int]]:
    period = []
    if scope.flt.start:
        period.append("p.created_at >= :p_start")
    if scope.flt.end:
        period.append("p.created_at < :p_end")
    join = "JOIN posts p ON p.case_id = c.id" + "".join(f" AND {clause}" for clause in period)
    sql = (
        f"SELECT {scope.select_keys()}"
        "SUM(CASE WHEN p.direction = 'inbound' THEN 1 ELSE 0 END) AS inbound_posts, "
        "SUM(CASE WHEN p.direction = 'outbound' THEN 1 ELSE 0 END) AS replies "
        f"{scope.from_cases(period_column=None, join=join)}{_group_by(scope)}"
    )
    n = len(scope.group_exprs)
    return {
        tuple(row[:n]): {"inbound_posts": int(row[n] or 0), "replies": int(row[n + 1] or 0)}
        for row in fetch(conn, sql, scope)
    }


def first_response(conn: Connection, scope: Scope) -> dict[GroupKey, Distribution]:
    return distributions(
        conn, scope, scope.dialect.seconds_between("c.first_inbound_at", "c.first_response_at")
    )


def resolution(conn: Connection, scope: Scope) -> dict[GroupKey, Distribution]:
    return distributions(conn, scope, scope.dialect.seconds_between("c.first_inbound_at", "c.resolved_at"))


def turns_sql(scope: Scope) -> str:
    """One row per customer post that reopened the conversation after our reply: its case, the
    post, when it came and when we next replied (NULL while we still owe the answer)."""
    d = scope.dialect
    since = " AND p.created_at >= :p_start" if scope.flt.start else ""
    window = "PARTITION BY p.case_id ORDER BY p.created_at, p.id"
    return (
        "SELECT t.case_id, t.post_id, t.at, t.next_reply_at FROM ("
        f"SELECT p.case_id, p.id AS post_id, p.direction, {d.epoch('p.created_at')} AS at, "
        f"LAG(p.direction) OVER ({window}) AS prev_direction, "
        f"MIN(CASE WHEN p.direction = 'outbound' THEN {d.epoch('p.created_at')} END) OVER ("
        f"{window} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_reply_at "
        f"FROM posts p WHERE p.removed = {'FALSE' if d.is_pg else '0'} AND p.case_id IS NOT NULL{since}"
        ") t WHERE t.direction = 'inbound' AND t.prev_direction = 'outbound'"
    )


def next_response(conn: Connection, scope: Scope) -> dict[GroupKey, Distribution]:
    join = f"JOIN ({turns_sql(scope)}) turn ON turn.case_id = c.id AND turn.post_id <> c.first_post_id"
    return distributions(conn, scope, "turn.next_reply_at - turn.at", source=scope.from_cases(join=join))


def handoff_counts(conn: Connection, scope: Scope) -> dict[GroupKey, int]:
    join = f"JOIN audit_events e ON e.case_id = c.id AND e.action IN {events.sql_list(events.HANDOFF)}"
    sql = f"SELECT {scope.select_keys()}COUNT(*) {scope.from_cases(join=join)}{_group_by(scope)}"
    n = len(scope.group_exprs)
    return {tuple(row[:n]): int(row[n]) for row in fetch(conn, sql, scope)}


def pr_ack(conn: Connection, scope: Scope) -> dict[GroupKey, Distribution]:
    d = scope.dialect
    paged, acked = events.sql_list(events.PAGED), events.sql_list(events.ACKNOWLEDGED)
    join = (
        "JOIN (SELECT e.case_id, "
        f"MIN(CASE WHEN e.action IN {paged} THEN e.at END) AS paged_at, "
        f"MIN(CASE WHEN e.action IN {acked} THEN e.at END) AS acked_at "
        f"FROM audit_events e WHERE e.action IN {paged} OR e.action IN {acked} GROUP BY e.case_id"
        ") pg ON pg.case_id = c.id"
    )
    value = d.seconds_between("COALESCE(pg.paged_at, c.first_inbound_at)", "pg.acked_at")
    source = scope.from_cases(join=join, where=f"c.page_pr = {d.true()}")
    return distributions(conn, scope, value, source=source)


def handoff_flows(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    """Handoffs between queues in the period (by when they happened), for the scope's cases."""
    d = scope.dialect
    source = f"COALESCE({d.json_text('e.details', 'from_queue')}, {d.json_text('e.details', 'from')})"
    target = f"COALESCE({d.json_text('e.details', 'to_queue')}, {d.json_text('e.details', 'to')})"
    period = "".join(
        clause
        for clause, on in ((" AND e.at >= :p_start", scope.flt.start), (" AND e.at < :p_end", scope.flt.end))
        if on
    )
    join = (
        f"JOIN audit_events e ON e.case_id = c.id AND e.action IN {events.sql_list(events.HANDOFF)}{period}"
    )
    sql = (
        f"SELECT {source} AS src, {target} AS dst, COUNT(DISTINCT e.id) AS n "
        f"{scope.from_cases(period_column=None, join=join)} GROUP BY {source}, {target} ORDER BY n DESC"
    )
    return [{"from": src, "to": dst, "count": int(n)} for src, dst, n in fetch(conn, sql, scope)]


BUCKETS = ((300, "< 5 min"), (900, "5-15 min"), (3600, "15-60 min"), (14400, "1-4 h"), (86400, "4-24 h"))


def first_response_histogram(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    """How many answered cases got their first response within each band (wall-clock)."""
    seconds = scope.dialect.seconds_between("c.first_inbound_at", "c.first_response_at")
    bands = " ".join(f"WHEN {seconds} < {limit} THEN {i}" for i, (limit, _) in enumerate(BUCKETS))
    band = f"CASE {bands} ELSE {len(BUCKETS)} END"
    sql = (
        f"SELECT {band} AS band, COUNT(DISTINCT c.id) "
        f"{scope.from_cases(where='c.first_response_at IS NOT NULL')} GROUP BY {band}"
    )
    counts = {int(b): int(n) for b, n in fetch(conn, sql, scope)}
    labels = [label for _, label in BUCKETS] + ["≥ 1 day"]
    return [{"band": label, "cases": counts.get(i, 0)} for i, label in enumerate(labels)]
