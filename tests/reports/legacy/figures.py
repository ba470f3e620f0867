"""Per-group figures computed in SQL: volume and response-time distributions.

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
from tests.reports.legacy.percentiles import TOTAL, Distribution, GroupKey, distributions, distributions_multi
from tests.reports.legacy.query import fetch
from tests.reports.legacy.scope import Scope

Figures = dict[str, dict[GroupKey, Distribution]]


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
        f"{scope.from_cases(period_column=None, join=join)}"
        + (f" GROUP BY {', '.join(scope.group_exprs)}" if scope.group_exprs else "")
    )
    n = len(scope.group_exprs)
    out = {
        tuple(row[:n]): {"inbound_posts": int(row[n] or 0), "replies": int(row[n + 1] or 0)}
        for row in fetch(conn, sql, scope)
    }
    if n and scope.has_tags:
        out[TOTAL] = post_counts(conn, scope.regroup()).get(TOTAL, {"inbound_posts": 0, "replies": 0})
    elif n:
        out[TOTAL] = {name: sum(v[name] for v in out.values()) for name in ("inbound_posts", "replies")}
    return out


def case_times(conn: Connection, scope: Scope) -> dict[str, Figures]:
    """First response and resolution, wall-clock and business (stored per case), in one pass."""
    d = scope.dialect
    fr, res, b_fr, b_res = distributions_multi(
        conn,
        scope,
        [
            d.seconds_between("c.first_inbound_at", "c.first_response_at"),
            d.seconds_between("c.first_inbound_at", "c.resolved_at"),
            "b.first_response_s",
            "b.resolution_s",
        ],
        source=lambda s: s.from_cases(join="LEFT JOIN report_case_times b ON b.case_id = c.id"),
    )
    return {
        "first_response_s": {"wall": fr, "business": b_fr},
        "resolution_s": {"wall": res, "business": b_res},
    }


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


def turn_times(conn: Connection, scope: Scope) -> Figures:
    """Next response per customer turn, wall-clock and business (stored per turn)."""

    def source(s: Scope) -> str:
        join = (
            f"JOIN ({turns_sql(s)}) turn ON turn.case_id = c.id AND turn.post_id <> c.first_post_id "
            "LEFT JOIN report_turn_times bt ON bt.post_id = turn.post_id"
        )
        return s.from_cases(join=join)

    wall, business = distributions_multi(
        conn, scope, ["turn.next_reply_at - turn.at", "bt.next_response_s"], source=source
    )
    return {"wall": wall, "business": business}


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
    return distributions(
        conn, scope, value, source=lambda s: s.from_cases(join=join, where=f"c.page_pr = {d.true()}")
    )


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
        f"{scope.regroup().from_cases(period_column=None, join=join)} "
        f"GROUP BY {source}, {target} ORDER BY n DESC"
    )
    return [{"from": src, "to": dst, "count": int(n)} for src, dst, n in fetch(conn, sql, scope)]
