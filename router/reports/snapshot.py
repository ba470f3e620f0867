"""The report's cases, read once: a temporary table with one row per case in scope.

A report needs a dozen figures about the same cases. Reading them from `cases` for each figure
costs a pass over the period's rows each time (scattered over the whole table when ids do not
follow arrival times); so the report reads them once, with everything judged per case already
worked out (wall-clock seconds, SLA met/breached, the breach cause from the audit trail,
handoffs, the stored business times), and every per-case figure aggregates this table.

The table lives in the report's connection only (PostgreSQL: dropped at commit)."""

from __future__ import annotations

from sqlalchemy import Connection

from router.reports.query import execute
from router.reports.scope import Scope
from router.reports.sla import _breached, _met, cause_sql

TABLE = "report_scope"
TEMP_BUFFERS = "64MB"

_CASE_COLUMNS = (
    "id, queue, channel, account, priority, assignee, tags, first_post_id, first_inbound_at, "
    "first_response_at, resolved_at, first_response_due_at, resolution_due_at, page_pr, needs_approval, "
    "sla_policy, updated_at"
)


def create(conn: Connection, scope: Scope) -> Scope:
    """Fill the table for the scope's period and filters; returns the scope reading from it."""
    d = scope.dialect
    raw = Scope(d, scope.flt, ())  # one row per case, whatever the grouping
    drop(conn, scope)
    facts, cause = cause_sql(raw, cases="sc")
    fr = ("c.first_response_at", "c.first_response_due_at")
    res = ("c.resolved_at", "c.resolution_due_at")
    breached = _breached(*fr)
    columns = (
        "c.id, c.queue, c.channel, c.account, c.priority, c.assignee, c.tags, c.first_post_id, "
        "c.first_inbound_at, c.first_response_due_at, c.page_pr, c.sla_policy, c.updated_at, "
        f"{d.day('c.first_inbound_at')} AS day, "
        f"{d.seconds_between('c.first_inbound_at', 'c.first_response_at')} AS fr_s, "
        f"{d.seconds_between('c.first_inbound_at', 'c.resolved_at')} AS res_s, "
        f"{_met(*fr)} AS fr_met, {breached} AS fr_breached, "
        "CASE WHEN c.first_response_due_at IS NOT NULL THEN 1 ELSE 0 END AS fr_target, "
        f"{_met(*res)} AS res_met, {_breached(*res)} AS res_breached, "
        "CASE WHEN c.resolution_due_at IS NOT NULL THEN 1 ELSE 0 END AS res_target, "
        f"CASE WHEN ({breached}) = 1 THEN ({cause}) END AS cause, "
        "COALESCE(ev.handoffs, 0) AS handoffs, "
        "b.first_response_s AS b_fr, b.resolution_s AS b_res, b.calendar AS b_calendar, "
        "b.case_updated_at AS b_updated"
    )
    business = "LEFT JOIN report_case_times b ON b.case_id = c.id"
    if d.is_pg:
        # by primary key, case by case (LATERAL), like the audit facts: not a hash of every case
        # ever measured; one flat join (a CTE here would be read twice)
        business = (
            "LEFT JOIN LATERAL (SELECT * FROM report_case_times b WHERE b.case_id = c.id OFFSET 0) b ON TRUE"
        )
        select = f"SELECT {columns} {raw.from_cases(join=f'{facts} {business}')}"
    else:  # the facts join reads the period's cases a second time: from sc
        picked = ", ".join(f"c.{name.strip()}" for name in _CASE_COLUMNS.split(","))
        select = (
            f"WITH sc AS MATERIALIZED (SELECT {picked} {raw.from_cases()}) "
            f"SELECT {columns} FROM sc c {facts} {business}"
        )
    if d.is_pg:
        # keep the table in memory while it is read a dozen times (default 8MB: it would spill
        # to disk and be read back). Settable only before a session's first temp table, so it
        # is set at the session level, always to the same value.
        conn.exec_driver_sql(f"SET temp_buffers = '{TEMP_BUFFERS}'")
    execute(conn, f"CREATE TEMP TABLE {TABLE}{' ON COMMIT DROP' if d.is_pg else ''} AS {select}", raw)
    if d.is_pg:  # its size and ids, for the joins with posts (a few ms; all columns cost 10x more)
        conn.exec_driver_sql(f"ANALYZE {TABLE} (id)")
    return scope.on(TABLE)


def drop(conn: Connection, scope: Scope) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {'pg_temp' if scope.dialect.is_pg else 'temp'}.{TABLE}")
