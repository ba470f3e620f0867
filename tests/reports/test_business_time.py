"""Business time against wall-clock on a calendar with closed hours. The calendar here is a test
double (weekdays 09:00-17:00 UTC) standing in for router/sla's; what is tested is the report's
part: measure stale cases once, store, aggregate in SQL, re-measure when a case changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from router.models import Case
from router.reports import business
from router.reports.report import build_report
from router.reports.scope import ReportFilter
from tests.reports.factory import add_post, make_case

FRIDAY_1630 = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
MONDAY_0930 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class OfficeHours:
    """Mon-Fri 09:00-17:00 UTC for the policy "office"; pauses are taken out."""

    fingerprints: Mapping[str, str] = {"office": "mon-fri-9-17"}

    def __init__(self) -> None:
        self.calls = 0

    def seconds(
        self, policy: str, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()
    ) -> int:
        self.calls += 1
        return _open(start, end) - sum(_open(a, b) for a, b in pauses)


def _open(start: datetime, end: datetime) -> int:
    total, day = 0, start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() < 5:
            a, b = max(start, day + timedelta(hours=9)), min(end, day + timedelta(hours=17))
            total += max(0, int((b - a).total_seconds()))
        day += timedelta(days=1)
    return total


@pytest.fixture
def clock() -> Iterator[OfficeHours]:
    office = OfficeHours()
    business.use_clock(office)
    yield office
    business.use_clock(None)


def test_a_weekend_counts_on_the_wall_clock_but_not_in_business_time(engine, clock) -> None:
    with Session(engine) as s:
        case = make_case(
            s,
            arrived=FRIDAY_1630,
            answer_after_s=int((MONDAY_0930 - FRIDAY_1630).total_seconds()),
            resolved_after_s=int((MONDAY_0930 - FRIDAY_1630).total_seconds()) + 3 * 3600,
            sla_policy="office",
        )
        # the customer waits on us Friday-Monday; then we wait on them 10:00-11:00 (paused)
        add_post(s, case, MONDAY_0930 + timedelta(minutes=30), "inbound")
        add_post(s, case, MONDAY_0930 + timedelta(minutes=35), "outbound")
        add_post(s, case, MONDAY_0930 + timedelta(minutes=95), "inbound")
        add_post(s, case, MONDAY_0930 + timedelta(minutes=100), "outbound")
        make_case(s, arrived=FRIDAY_1630, answer_after_s=60, sla_policy="unknown-policy")
        s.commit()
    report = build_report(engine, ReportFilter(group_by=("queue",), as_of=MONDAY_0930 + timedelta(days=1)))
    totals = report["totals"]
    fr, res, nxt = totals["first_response_s"], totals["resolution_s"], totals["next_response_s"]
    assert (fr["wall"]["n"], fr["wall"]["max"]) == (2, 2 * 86400 + 17 * 3600)  # 65 h
    assert (fr["business"]["n"], fr["business"]["p50"]) == (1, 3600)  # 30 min Friday + 30 min Monday
    # resolved Monday 12:30: 30 min Friday + 3 h Monday, minus 10:05-11:05 waiting on the customer
    assert res["business"]["p50"] == 1800 + 3 * 3600 - 3600
    assert res["wall"]["p50"] == 65 * 3600 + 3 * 3600
    assert (nxt["wall"]["p50"], nxt["business"]["p50"]) == (300, 300)

    calls = clock.calls
    build_report(engine, ReportFilter(as_of=MONDAY_0930 + timedelta(days=1)))
    assert clock.calls == calls  # nothing changed: nothing measured again
    with Session(engine) as s:
        stored = s.exec(select(Case).where(Case.sla_policy == "office")).one()
        stored.first_response_at = FRIDAY_1630 + timedelta(minutes=10)
        stored.updated_at = stored.updated_at + timedelta(seconds=1)
        s.add(stored)
        s.commit()
    again = build_report(engine, ReportFilter(as_of=MONDAY_0930 + timedelta(days=1)))
    assert again["totals"]["first_response_s"]["business"]["p50"] == 600
