"""Business time for the report: SQL, then Python, then SQL again.

SQL cannot walk an SLA calendar, so before a report runs, the cases in its period whose stored
business times are missing or stale (the case changed since, or its calendar did) are read in
batches (only the columns needed), measured with the case's calendar (router/sla), and stored in
report_case_times / report_turn_times. The report then aggregates those columns in SQL exactly as
it aggregates wall-clock times. Each case is measured once per change, not once per report.

The clock pauses while the case waits on the customer (our reply until their next post) for
resolution time; first and next response are measured from a customer post, when we owe the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, delete, insert
from sqlalchemy.sql.elements import BindParameter

from router.reports.figures import turns_sql
from router.reports.models import ReportCaseTimes, ReportTurnTimes
from router.reports.query import as_utc, execute, fetch
from router.reports.scope import ReportFilter, Scope

BATCH = 2000
Pause = tuple[datetime, datetime]


class BusinessClock(Protocol):
    @property
    def fingerprints(self) -> Mapping[str, str]:
        """SLA policy name -> a name for its calendar that changes when the calendar does."""

    def seconds(self, policy: str, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> int:
        """Business seconds between two moments in the policy's calendar."""


_clock_override: BusinessClock | None = None


def use_clock(clock: BusinessClock | None) -> None:
    """Tests and tools may set the clock; by default it comes from the SLA config."""
    global _clock_override
    _clock_override = clock


def current_clock() -> BusinessClock | None:
    if _clock_override is not None:
        return _clock_override
    from router.reports.calendars import clock_from_settings

    return clock_from_settings()


def refresh(conn: Connection, scope: Scope, clock: BusinessClock | None = None) -> int:
    """Measure the stale cases of the report's table (snapshot.py), store their business times
    and copy them into the table; returns how many were measured. Runs in the report's
    transaction: the caller commits."""
    clock = clock or current_clock()
    if clock is None or scope.table is None:
        return 0
    names = sorted(clock.fingerprints)
    expected = "".join(f"WHEN c.sla_policy = :pn{i} THEN :pf{i} " for i in range(len(names)))
    expected = f"(CASE {expected}ELSE '' END)" if names else "''"
    values = {f"pn{i}": name for i, name in enumerate(names)}
    values |= {f"pf{i}": _fingerprint(clock, name) for i, name in enumerate(names)}
    stale_where = f"(c.b_calendar IS NULL OR c.b_updated <> c.updated_at OR c.b_calendar <> {expected})"
    sql = f"SELECT c.id, c.sla_policy, c.updated_at FROM {scope.table} c WHERE {stale_where}"
    rows = fetch(conn, sql, scope, values)
    stale = [(int(cid), policy, as_utc(updated)) for cid, policy, updated in rows]
    raw = Scope(scope.dialect, ReportFilter(start=scope.flt.start, end=scope.flt.end, as_of=scope.flt.as_of))
    for i in range(0, len(stale), BATCH):
        batch = stale[i : i + BATCH]
        _measure(conn, raw, clock, batch)
        execute(
            conn,
            f"UPDATE {scope.table} SET "
            + ", ".join(
                f"{mine} = (SELECT r.{theirs} FROM report_case_times r WHERE r.case_id = {scope.table}.id)"
                for mine, theirs in (
                    ("b_fr", "first_response_s"),
                    ("b_res", "resolution_s"),
                    ("b_calendar", "calendar"),
                    ("b_updated", "case_updated_at"),
                )
            )
            + f" WHERE {scope.table}.id IN :ids",
            scope,
            {"ids": [cid for cid, _, _ in batch]},
        )
    return len(stale)


def _measure(conn: Connection, scope: Scope, clock: BusinessClock, batch: list[tuple[int, str, Any]]) -> None:
    ids = [cid for cid, _, _ in batch]
    policy = {cid: p for cid, p, _ in batch}
    cases: dict[int, list[datetime | None]] = {
        int(row[0]): [as_utc(v) for v in row[1:]]
        for row in fetch(
            conn,
            "SELECT c.id, c.first_inbound_at, c.first_response_at, c.resolved_at "
            "FROM cases c WHERE c.id IN :ids",
            scope,
            {"ids": ids},
            [_expanding("ids")],
        )
    }
    posts: dict[int, list[tuple[str, datetime]]] = {}
    for case_id, direction, at in fetch(
        conn,
        "SELECT p.case_id, p.direction, p.created_at FROM posts p WHERE p.case_id IN :ids "
        f"AND p.removed = {'FALSE' if scope.dialect.is_pg else '0'} ORDER BY p.case_id, p.created_at, p.id",
        scope,
        {"ids": ids},
        [_expanding("ids")],
    ):
        posts.setdefault(int(case_id), []).append((direction, as_utc(at)))  # type: ignore[arg-type]
    turns = fetch(
        conn,
        f"SELECT t.case_id, t.post_id, t.at, t.next_reply_at FROM ({_all_turns(scope)}) t "
        "JOIN cases c ON c.id = t.case_id WHERE t.case_id IN :ids AND t.post_id <> c.first_post_id",
        scope,
        {"ids": ids},
        [_expanding("ids")],
    )
    conn.execute(delete(ReportCaseTimes).where(ReportCaseTimes.case_id.in_(ids)))  # type: ignore[attr-defined]
    conn.execute(delete(ReportTurnTimes).where(ReportTurnTimes.case_id.in_(ids)))  # type: ignore[attr-defined]
    rows = []
    for cid, _, updated in batch:
        first_in, first_out, resolved = cases[cid]
        name = policy[cid]
        rows.append(
            {
                "case_id": cid,
                "calendar": _fingerprint(clock, name),
                "case_updated_at": updated,
                "first_response_s": _between(clock, name, first_in, first_out),
                "resolution_s": _between(clock, name, first_in, resolved, _waiting(posts.get(cid, []))),
            }
        )
    if rows:
        conn.execute(insert(ReportCaseTimes), rows)
    turn_rows = [
        {
            "post_id": int(post_id),
            "case_id": int(case_id),
            "next_response_s": _between(clock, policy[int(case_id)], _from_epoch(at), _from_epoch(reply)),
        }
        for case_id, post_id, at, reply in turns
    ]
    if turn_rows:
        conn.execute(insert(ReportTurnTimes), turn_rows)


def _all_turns(scope: Scope) -> str:
    return turns_sql(Scope(scope.dialect, ReportFilter(as_of=scope.flt.as_of)))


def _waiting(posts: Iterable[tuple[str, datetime]]) -> list[Pause]:
    """Intervals from each of our replies to the customer's next post: waiting on them."""
    pauses, since = [], None
    for direction, at in posts:
        if direction == "outbound" and since is None:
            since = at
        elif direction == "inbound" and since is not None:
            pauses.append((since, at))
            since = None
    return pauses


def _between(
    clock: BusinessClock,
    policy: str,
    start: datetime | None,
    end: datetime | None,
    pauses: Sequence[Pause] = (),
) -> int | None:
    if start is None or end is None or policy not in clock.fingerprints:
        return None
    inside = [(max(a, start), min(b, end)) for a, b in pauses if b > start and a < end]
    return int(clock.seconds(policy, start, end, inside))


def _fingerprint(clock: BusinessClock, policy: str) -> str:
    found = clock.fingerprints.get(policy)
    return f"{policy}@{found}"[:200] if found is not None else ""


def _from_epoch(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def _expanding(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)
