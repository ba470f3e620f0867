"""Figures over time, for the whole scope: a daily trend, the backlog at the end of each day, and
an hour-of-week heatmap of customer posts against our replies. Days and hours are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.sql.elements import BindParameter

from router.reports.percentiles import distributions
from router.reports.query import as_utc, fetch
from router.reports.scope import Scope
from router.reports.sla import sla_counts
from router.timeutil import UTCDateTime

MAX_DAYS = 400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def period_bounds(conn: Connection, scope: Scope) -> tuple[datetime, datetime] | None:
    """The report's period, or (without one) the span of the stored cases."""
    start, end = scope.flt.start, scope.flt.end
    if start is None or end is None:
        row = fetch(
            conn, f"SELECT MIN(c.first_inbound_at), MAX(c.first_inbound_at) {scope.from_cases()}", scope
        )
        low, high = (as_utc(v) for v in row[0])
        if low is None or high is None:
            return None
        start = start or low
        end = end or high + timedelta(seconds=1)
    return start, end


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), (end - timedelta(microseconds=1)).astimezone(UTC).date()
    count = min((last - first).days + 1, MAX_DAYS)
    return [first + timedelta(days=i) for i in range(max(count, 0))]


def trend(conn: Connection, scope: Scope, start: datetime, end: datetime) -> list[dict[str, Any]]:
    by_day = scope.regroup(scope.dialect.day("c.first_inbound_at"))
    counts = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in fetch(
            conn,
            "SELECT g0, COUNT(*), SUM(CASE WHEN first_response_at IS NOT NULL THEN 1 ELSE 0 END) FROM ("
            f"SELECT DISTINCT {by_day.select_keys()}c.id, c.first_response_at {by_day.from_cases()}"
            ") x GROUP BY g0",
            by_day,
        )
    }
    seconds = by_day.dialect.seconds_between("c.first_inbound_at", "c.first_response_at")
    p50 = distributions(conn, by_day, seconds)
    breaches = sla_counts(conn, by_day)
    out = []
    for day in _days(start, end):
        key = day.isoformat()
        cases, answered = counts.get(key, (0, 0))
        out.append(
            {
                "day": key,
                "cases": cases,
                "answered": answered,
                "first_response_p50_s": p50[(key,)]["p50"] if (key,) in p50 else None,
                "breaches": breaches[(key,)]["first_response"]["breached"] if (key,) in breaches else 0,
            }
        )
    return out


def backlog(conn: Connection, scope: Scope, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Cases open (not resolved) and cases still without a first response at the end of each day."""
    d, unscoped = scope.dialect, scope.regroup()
    before = {"b_start": start}
    carry = fetch(
        conn,
        "SELECT SUM(CASE WHEN c.resolved_at IS NULL OR c.resolved_at >= :b_start THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN c.first_response_at IS NULL OR c.first_response_at >= :b_start THEN 1 ELSE 0 END) "
        f"{unscoped.from_cases(period_column=None, where='c.first_inbound_at < :b_start')}",
        unscoped,
        before,
        [_bind("b_start")],
    )[0]
    open_now, unanswered_now = int(carry[0] or 0), int(carry[1] or 0)
    deltas: dict[str, list[int]] = {}
    for column, slot, sign in (
        ("c.first_inbound_at", (0, 1), 1),
        ("c.resolved_at", (0,), -1),
        ("c.first_response_at", (1,), -1),
    ):
        sql = (
            f"SELECT {d.day(column)} AS day, COUNT(*) "
            f"{unscoped.from_cases(period_column=None, where=f'{column} >= :b_start AND {column} < :b_end')} "
            f"GROUP BY {d.day(column)}"
        )
        for day, n in fetch(
            conn, sql, unscoped, {**before, "b_end": end}, [_bind("b_start"), _bind("b_end")]
        ):
            for i in slot:
                deltas.setdefault(day, [0, 0])[i] += sign * int(n)
    out = []
    for day in _days(start, end):
        change = deltas.get(day.isoformat(), [0, 0])
        open_now, unanswered_now = open_now + change[0], unanswered_now + change[1]
        out.append({"day": day.isoformat(), "open": open_now, "unanswered": unanswered_now})
    return out


def heatmap(conn: Connection, scope: Scope) -> dict[str, Any]:
    """Counts by UTC weekday (mon…sun) and hour of customer posts and of our replies."""
    d, unscoped = scope.dialect, scope.regroup()
    period = "".join(
        clause
        for clause, on in (
            (" AND p.created_at >= :p_start", scope.flt.start),
            (" AND p.created_at < :p_end", scope.flt.end),
        )
        if on
    )
    sql = (
        f"SELECT p.direction, {d.weekday('p.created_at')} AS wd, {d.hour('p.created_at')} AS hr, "
        "COUNT(DISTINCT p.id) "
        f"{unscoped.from_cases(period_column=None, join='JOIN posts p ON p.case_id = c.id' + period)} "
        f"GROUP BY p.direction, {d.weekday('p.created_at')}, {d.hour('p.created_at')}"
    )
    grids = {"inbound": [[0] * 24 for _ in WEEKDAYS], "outbound": [[0] * 24 for _ in WEEKDAYS]}
    for direction, weekday, hour, n in fetch(conn, sql, unscoped):
        if direction in grids:
            grids[direction][(int(weekday) + 6) % 7][int(hour)] = int(n)  # SQL: 0 = Sunday
    return {"weekdays": list(WEEKDAYS), "arrivals": grids["inbound"], "replies": grids["outbound"]}


def _bind(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=UTCDateTime)
