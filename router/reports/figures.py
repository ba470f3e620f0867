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
from router.reports.percentiles import TOTAL, Distribution, GroupKey, distributions, distributions_multi
from router.reports.query import fetch
from router.reports.scope import Scope

Figures = dict[str, dict[GroupKey, Distribution]]


def posts_sql(scope: Scope, columns: str, group: str) -> str:
    """`SELECT columns … GROUP BY group` over the posts created in the period, each joined to its
    case as `c` (a live case the report's filters keep, wherever its first post falls) and as `pp`
    (id, case_id, direction, created_at). The period's cases come from the report's table; only
    the few cases that began before the period are looked up in the cases table."""
    assert scope.table is not None
    period = scope.in_period("p.created_at")
    posts = (
        f"SELECT p.id, p.case_id, p.direction, p.created_at FROM posts p WHERE p.case_id IS NOT NULL{period}"
    )
    inside = f"SELECT {columns} {scope.from_cases(join='JOIN pp ON pp.case_id = c.id')}"
    elsewhere = (
        f"SELECT pp.* FROM pp WHERE NOT EXISTS (SELECT 1 FROM {scope.table} r WHERE r.id = pp.case_id)"
    )
    if scope.dialect.is_pg:
        # Without statistics on pp the planner expects most posts here and hashes all cases;
        # they are a few (cases begun before the period): look each one up by id.
        cases = (
            f"({elsewhere} OFFSET 0) pp "
            "CROSS JOIN LATERAL (SELECT * FROM cases x WHERE x.id = pp.case_id OFFSET 0) c"
        )
    else:
        cases = f"({elsewhere}) pp JOIN cases c ON c.id = pp.case_id"
    outside = f"SELECT {columns} {scope.on(None).from_cases(period_column=None, cases=cases)}"
    return (
        f"WITH pp AS MATERIALIZED ({posts}) "
        f"SELECT {group}, COUNT(*) FROM ({inside} UNION ALL {outside}) x GROUP BY {group}"
    )


PostsByHour = list[tuple[GroupKey, str, int, int, int]]  # key, direction, weekday (0 = Sunday), hour, posts


def posts_by_hour(conn: Connection, scope: Scope) -> PostsByHour:
    """The period's posts per group, direction, UTC weekday and hour: volume and heatmap at once."""
    d = scope.dialect
    keys = scope.key_names()
    columns = (
        f"{scope.select_keys()}pp.direction AS direction, "
        f"{d.weekday('pp.created_at')} AS wd, {d.hour('pp.created_at')} AS hr"
    )
    n = len(keys)
    return [
        (tuple(row[:n]), row[n], int(row[n + 1]), int(row[n + 2]), int(row[n + 3]))
        for row in fetch(conn, posts_sql(scope, columns, ", ".join([*keys, "direction", "wd", "hr"])), scope)
    ]


def post_counts(rows: PostsByHour, totals: PostsByHour | None = None) -> dict[GroupKey, dict[str, int]]:
    """Customer posts and our replies per group, and under TOTAL () over `totals` (the same rows
    ungrouped, when a post can count in two groups) or over all groups."""
    out: dict[GroupKey, dict[str, int]] = {}
    whole = {"inbound_posts": 0, "replies": 0}
    for key, direction, _, _, count in rows:
        found = out.setdefault(key, {"inbound_posts": 0, "replies": 0})
        name = {"inbound": "inbound_posts", "outbound": "replies"}.get(direction)
        if name:
            found[name] += count
            whole[name] += count
    if totals is not None:
        out[TOTAL] = post_counts(totals)[TOTAL]
    else:
        out[TOTAL] = whole
    return out


def case_times(conn: Connection, scope: Scope) -> dict[str, Figures]:
    """First response and resolution, wall-clock and business (stored per case), in one pass."""
    fr, res, b_fr, b_res = distributions_multi(conn, scope, ["c.fr_s", "c.res_s", "c.b_fr", "c.b_res"])
    return {
        "first_response_s": {"wall": fr, "business": b_fr},
        "resolution_s": {"wall": res, "business": b_res},
    }


def turns_sql(scope: Scope) -> str:
    """One row per customer post that reopened the conversation after our reply: its case, the
    post, when it came and when we next replied (NULL while we still owe the answer).

    One window over each case's posts, newest first: LEAD is the post before (in time), and
    the running MIN of our replies' times is our first reply at or after it (the post itself
    adds nothing, being the customer's)."""
    d = scope.dialect
    since = " AND p.created_at >= :p_start" if scope.flt.start else ""
    # a case's turns depend on its posts alone: with filters, read only the report's cases' posts
    within = (
        f" AND p.case_id IN (SELECT r.id FROM {scope.table} r)" if scope.table and scope.flt.where else ""
    )
    window = "PARTITION BY p.case_id ORDER BY p.created_at DESC, p.id DESC"
    return (
        "SELECT t.case_id, t.post_id, t.at, t.next_reply_at FROM ("
        f"SELECT p.case_id, p.id AS post_id, p.direction, {d.epoch('p.created_at')} AS at, "
        "LEAD(p.direction) OVER w AS prev_direction, "
        f"MIN(CASE WHEN p.direction = 'outbound' THEN {d.epoch('p.created_at')} END) OVER ("
        "w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS next_reply_at "
        f"FROM posts p WHERE p.removed = {'FALSE' if d.is_pg else '0'} "
        f"AND p.case_id IS NOT NULL{since}{within} WINDOW w AS ({window})"
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
    within = f" AND e.case_id IN (SELECT r.id FROM {scope.table} r WHERE r.page_pr = {d.true()})"
    join = (
        "JOIN (SELECT e.case_id, "
        f"MIN(CASE WHEN e.action IN {paged} THEN e.at END) AS paged_at, "
        f"MIN(CASE WHEN e.action IN {acked} THEN e.at END) AS acked_at "
        f"FROM audit_events e WHERE (e.action IN {paged} OR e.action IN {acked}){within} GROUP BY e.case_id"
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
    period = scope.in_period("e.at")
    join = (
        f"JOIN audit_events e ON e.case_id = c.id AND e.action IN {events.sql_list(events.HANDOFF)}{period}"
    )
    sql = (
        f"SELECT {source} AS src, {target} AS dst, COUNT(*) AS n "
        f"{scope.on(None).regroup().from_cases(period_column=None, join=join)} "
        f"GROUP BY {source}, {target} ORDER BY n DESC"
    )
    return [{"from": src, "to": dst, "count": int(n)} for src, dst, n in fetch(conn, sql, scope)]
