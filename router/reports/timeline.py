"""Figures over time, for the whole scope: a daily trend, the backlog at the end of each day, and
an hour-of-week heatmap of customer posts against our replies. Days and hours are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.sql.elements import BindParameter

from router.reports.figures import PostsByHour
from router.reports.percentiles import distributions_multi
from router.reports.query import as_utc, fetch
from router.reports.scope import Scope
from router.reports.sla import case_figures
from router.timeutil import UTCDateTime

MAX_DAYS = 400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def period_bounds(conn: Connection, scope: Scope) -> tuple[datetime, datetime] | None:
    """The report's period, or (without one) the span of the stored cases."""
    start, end = scope.flt.start, scope.flt.end
    if start is None or end is None:
        row = fetch(
            conn,
            f"SELECT MIN(c.first_inbound_at), MAX(c.first_inbound_at) {scope.regroup().from_cases()}",
            scope,
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
    by_day = scope.regroup("c.day")
    counts = case_figures(conn, by_day)
    p50 = distributions_multi(conn, by_day, ["c.fr_s"], totals=False)[0]
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


Counts = dict[tuple[str, str | None], int]  # (kind, UTC day or None) -> cases


def backlog_counts(conn: Connection, scope: Scope, start: datetime, end: datetime) -> Counts:
    """What the backlog needs from the cases table: resolutions and first responses per day of
    [start, end), and the counts of never, or only after the end, resolved / answered / begun.

    "Open when the period began" is arrived-before minus resolved-before; over all cases that is
    the same as (never resolved) - (arrived since) + (resolved since), which counts only recent
    cases and the open ones (index ranges, migration 0005_report_speed) instead of all history."""
    d, unscoped = scope.dialect, scope.on(None).regroup()
    window = {"b_start": start, "b_end": end}
    binds = [_bind("b_start"), _bind("b_end")]
    parts = []
    for kind, column in (("resolved", "c.resolved_at"), ("answered", "c.first_response_at")):
        inside = f"{column} >= :b_start AND {column} < :b_end"
        parts.append(
            f"SELECT '{kind}' AS kind, {d.day(column)} AS day, COUNT(*) AS n "
            f"{unscoped.from_cases(period_column=None, where=inside)} GROUP BY {d.day(column)}"
        )
        for suffix, where in (("_never", f"{column} IS NULL"), ("_after", f"{column} >= :b_end")):
            parts.append(
                f"SELECT '{kind}{suffix}' AS kind, NULL AS day, COUNT(*) AS n "
                + unscoped.from_cases(period_column=None, where=where)
            )
    if scope.flt.end:  # cases past the period's end are not in the report's table
        parts.append(
            "SELECT 'arrived_after' AS kind, NULL AS day, COUNT(*) AS n "
            + unscoped.from_cases(period_column=None, where="c.first_inbound_at >= :b_end")
        )
    sql = " UNION ALL ".join(parts)
    return {(kind, day): int(n) for kind, day, n in fetch(conn, sql, unscoped, window, binds)}


def arrivals(conn: Connection, scope: Scope) -> Counts:
    """The report table's cases per day: every arrival within the period's bounds."""
    sql = f"SELECT c.day, COUNT(*) {scope.regroup().from_cases()} GROUP BY c.day"
    return {("arrived", day): int(n) for day, n in fetch(conn, sql, scope)}


def backlog(per_day: Counts, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Cases open (not resolved) and cases still without a first response at the end of each day:
    what was open when the period began, plus arrivals, minus resolutions (or first responses);
    from backlog_counts and arrivals."""

    def since_start(kind: str) -> int:
        return sum(n for (k, day), n in per_day.items() if k == kind and day is not None) + per_day.get(
            (f"{kind}_after", None), 0
        )

    arrived_since = since_start("arrived")
    open_now = per_day.get(("resolved_never", None), 0) - arrived_since + since_start("resolved")
    unanswered = per_day.get(("answered_never", None), 0) - arrived_since + since_start("answered")
    out = []
    for day in _days(start, end):
        key = day.isoformat()
        arrived = per_day.get(("arrived", key), 0)
        open_now += arrived - per_day.get(("resolved", key), 0)
        unanswered += arrived - per_day.get(("answered", key), 0)
        out.append({"day": key, "open": open_now, "unanswered": unanswered})
    return out


def heatmap(rows: PostsByHour) -> dict[str, Any]:
    """Counts by UTC weekday (mon…sun) and hour of customer posts and of our replies, from the
    period's posts by hour (figures.posts_by_hour, ungrouped)."""
    grids = {"inbound": [[0] * 24 for _ in WEEKDAYS], "outbound": [[0] * 24 for _ in WEEKDAYS]}
    for _, direction, weekday, hour, n in rows:
        if direction in grids:
            grids[direction][(weekday + 6) % 7][hour] += n  # SQL: 0 = Sunday
    return {"weekdays": list(WEEKDAYS), "arrivals": grids["inbound"], "replies": grids["outbound"]}


def _bind(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=UTCDateTime)
