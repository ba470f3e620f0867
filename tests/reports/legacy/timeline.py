"""Figures over time, for the whole scope: a daily trend, the backlog at the end of each day, and
an hour-of-week heatmap of customer posts against our replies. Days and hours are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.sql.elements import BindParameter

from router.timeutil import UTCDateTime
from tests.reports.legacy.percentiles import distributions_multi
from tests.reports.legacy.query import as_utc, fetch
from tests.reports.legacy.scope import Scope
from tests.reports.legacy.sla import case_figures

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
    counts = case_figures(conn, by_day)
    seconds = by_day.dialect.seconds_between("c.first_inbound_at", "c.first_response_at")
    p50 = distributions_multi(conn, by_day, [seconds], totals=False)[0]
    out = []
    for day in _days(start, end):
        key = (day.isoformat(),)
        found = counts.get(key)
        out.append(
            {
                "day": day.isoformat(),
                "cases": found["cases"] if found else 0,
                "answered": found["answered"] if found else 0,
                "first_response_p50_s": p50[key]["p50"] if key in p50 else None,
                "breaches": found["sla"]["first_response"]["breached"] if found else 0,
            }
        )
    return out


def backlog(conn: Connection, scope: Scope, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Cases open (not resolved) and cases still without a first response at the end of each day:
    what was open when the period began, plus arrivals, minus resolutions (or first responses)."""
    d, unscoped = scope.dialect, scope.regroup()
    window = {"b_start": start, "b_end": end}
    binds = [_bind("b_start"), _bind("b_end")]
    parts = []
    for kind, column in (
        ("arrived", "c.first_inbound_at"),
        ("resolved", "c.resolved_at"),
        ("answered", "c.first_response_at"),
    ):
        inside = f"{column} >= :b_start AND {column} < :b_end"
        before = f"{column} < :b_start"
        parts.append(
            f"SELECT '{kind}' AS kind, {d.day(column)} AS day "
            f"{unscoped.from_cases(period_column=None, where=inside)}"
        )
        parts.append(
            f"SELECT '{kind}_before' AS kind, NULL AS day "
            + unscoped.from_cases(period_column=None, where=before)
        )
    sql = f"SELECT kind, day, COUNT(*) FROM ({' UNION ALL '.join(parts)}) x GROUP BY kind, day"
    per_day: dict[tuple[str, str | None], int] = {
        (kind, day): int(n) for kind, day, n in fetch(conn, sql, unscoped, window, binds)
    }
    open_now = per_day.get(("arrived_before", None), 0) - per_day.get(("resolved_before", None), 0)
    unanswered = per_day.get(("arrived_before", None), 0) - per_day.get(("answered_before", None), 0)
    out = []
    for day in _days(start, end):
        key = day.isoformat()
        arrived = per_day.get(("arrived", key), 0)
        open_now += arrived - per_day.get(("resolved", key), 0)
        unanswered += arrived - per_day.get(("answered", key), 0)
        out.append({"day": key, "open": open_now, "unanswered": unanswered})
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
