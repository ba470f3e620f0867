"""SLA timers on a real Redis with real RQ workers (in-process, with their scheduler)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlmodel import Session, col, select

from router.models import AuditEvent, Case
from router.settings import RULES_PACKAGE_DIR
from router.sla.clock import apply_due_times
from router.sla.policy import SlaConfig, load_sla_config
from router.timeutil import utcnow
from workers import timers
from workers.queues import ALL_QUEUES, PAGING, SLA, queue

SHIPPED = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
# Quiet hours would hold these non-critical pages at night; tests/paging covers them.
CONFIG = replace(SHIPPED, rotations={n: replace(r, quiet_hours=None) for n, r in SHIPPED.rotations.items()})


@pytest.fixture(autouse=True)
def shipped_config(monkeypatch: pytest.MonkeyPatch) -> SlaConfig:
    monkeypatch.setattr(timers, "sla_config", lambda: CONFIG)
    return CONFIG


def make_case(engine, minutes_ago: float, *, queue_name: str = "pr", assignee: str | None = "dana") -> int:  # type: ignore[no-untyped-def]
    inbound = utcnow() - timedelta(minutes=minutes_ago)
    case = Case(
        channel="x",
        account="acme",
        author_handle="maria",
        queue=queue_name,
        priority=3,
        status="new",
        assignee=assignee,
        sla_policy="urgent",
        ruleset_version="t",
        first_inbound_at=inbound,
        last_inbound_at=inbound,
    )
    apply_due_times(case, CONFIG, utcnow())
    with Session(engine, expire_on_commit=False) as s:
        s.add(case)
        s.commit()
    assert case.id is not None
    return case.id


def work(connection) -> None:  # type: ignore[no-untyped-def]
    """A real worker in burst mode: its scheduler enqueues what is due, then it runs everything."""
    SimpleWorker([queue(n, connection) for n in ALL_QUEUES], connection=connection).work(
        burst=True, with_scheduler=True, logging_level="WARNING"
    )


def events(engine, case_id: int, prefix: str = "") -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.exec(
            select(AuditEvent).where(col(AuditEvent.case_id) == case_id).order_by(col(AuditEvent.id))
        )
        return [e for e in rows.all() if e.action.startswith(prefix)]


def test_a_breached_case_runs_each_due_stage_once(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    # urgent (15 min, 24x7) in pr: warn at 11.25 min, breach at 15, manager at 30. Came in 20 min ago.
    case_id = make_case(engine, 20)
    timers.sync_cases([case_id])
    scheduled = timers.next_fire_times([case_id], redis_conn)
    assert sorted(scheduled) == [f"sla-{case_id}-first-{stage}" for stage in ("breach", "manager", "warn")]
    work(redis_conn)
    fired = [(e.details["stage"], e.details["breached"]) for e in events(engine, case_id, "sla.escalated")]
    assert fired == [("warn", False), ("breach", True)]
    assert [e.details["to"] for e in events(engine, case_id, "sla.notified")] == ["dana"]
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and (case.priority, case.assignee) == (2, "pr-lead")
    raised = events(engine, case_id, "case.priority_raised")[0].details
    assert raised == {"from": "normal", "to": "high"}
    # The breach stage pages PR: one incident, paged to the person on call.
    assert [e.action for e in events(engine, case_id, "incident.")] == ["incident.opened"]
    assert len(events(engine, case_id, "page.sent")) == 1
    # The manager stage is still waiting, 30 minutes after the post.
    assert list(timers.next_fire_times([case_id], redis_conn)) == [f"sla-{case_id}-first-manager"]

    # Firing a stage again, or re-syncing, acts once.
    warn = events(engine, case_id, "sla.escalated")[0].details
    assert timers.fire(case_id, "first-warn", warn["due_at"]) == "already fired"
    timers.sync_cases([case_id])
    work(redis_conn)
    assert len(events(engine, case_id, "sla.escalated")) == 2
    assert list(timers.next_fire_times([case_id], redis_conn)) == [f"sla-{case_id}-first-manager"]


def test_every_stage_in_order_when_all_are_due(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 31, queue_name="customer_service", assignee=None)
    timers.sync_cases([case_id])
    work(redis_conn)
    stages = [e.details["stage"] for e in events(engine, case_id, "sla.escalated")]
    assert stages == ["warn", "breach", "manager"]
    assert events(engine, case_id, "sla.notified")[0].details["to"] == "queue:customer_service"
    # The manager page is an incident of its own (per breach), paged to the managers rotation.
    opened = events(engine, case_id, "incident.opened")
    assert [e.details["incident"] for e in opened] == [f"breach:{case_id}:first"]
    assert events(engine, case_id, "page.sent")[0].details["to"] in CONFIG.rotations["managers"].people


def test_a_reply_before_the_warning_cancels_the_ladder(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 1)
    timers.sync_cases([case_id])
    assert len(timers.next_fire_times([case_id], redis_conn)) == 3
    with Session(engine, expire_on_commit=False) as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.first_response_at = case.last_response_at = utcnow()
        case.status = "waiting"
        apply_due_times(case, CONFIG, utcnow())
        s.add(case)
        s.commit()
        due_at = case.first_response_due_at
    timers.cases_changed([case_id], connection=redis_conn)
    work(redis_conn)
    assert timers.next_fire_times([case_id], redis_conn) == {}
    assert queue(SLA, redis_conn).scheduled_job_registry.count == 0
    # A stale job that fires anyway finds the clock stopped.
    assert due_at is not None
    assert timers.fire(case_id, "first-warn", due_at.isoformat()) == "not running"
    assert events(engine, case_id, "sla.") == []


def test_the_sweep_recreates_lost_timers(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 1)
    other = make_case(engine, 2)
    timers.sync_cases([case_id, other])
    assert len(timers.next_fire_times([case_id, other], redis_conn)) == 6
    redis_conn.flushdb()  # Redis restarted without its data: the marker is gone too
    assert timers.sweep_timers(connection=redis_conn) == 2
    assert len(timers.next_fire_times([case_id, other], redis_conn)) == 6
    # With the marker present, only cases due soon with a timer missing are re-synced.
    assert timers.sweep_timers(connection=redis_conn) == 0
    queue(SLA, redis_conn).scheduled_job_registry.remove(f"sla-{other}-first-breach", delete_job=True)
    assert timers.sweep_timers(connection=redis_conn) == 1
    assert len(timers.next_fire_times([case_id, other], redis_conn)) == 6
    # A mover that died after taking a job out of the registry, before queueing it.
    queue(SLA, redis_conn).scheduled_job_registry.remove(f"sla-{case_id}-first-warn")
    assert timers.sweep_timers(connection=redis_conn) == 1
    assert len(timers.next_fire_times([case_id, other], redis_conn)) == 6


def test_the_sweep_walks_every_open_case_a_chunk_at_a_time(engine, redis_conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A full pass after Redis lost its data reaches every case, however many there are, reading
    one chunk at a time (most urgent first) instead of every open case at once."""
    monkeypatch.setattr(timers, "SYNC_CHUNK", 2)
    ids = [make_case(engine, 3) for _ in range(3)] + [make_case(engine, m) for m in (1, 2)]
    assert timers.sweep_timers(connection=redis_conn) == 5
    assert len(timers.next_fire_times(ids, redis_conn)) == 15
    assert timers.sweep_timers(connection=redis_conn) == 0


def test_overdue_jobs_are_rescued_when_no_scheduler_runs(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 20)
    timers.sync_cases([case_id])
    assert timers.rescue_overdue(grace=timedelta(0), connection=redis_conn) == 2  # warn and breach
    assert queue(SLA, redis_conn).count == 2
    assert timers.rescue_overdue(grace=timedelta(0), connection=redis_conn) == 0
    SimpleWorker([queue(n, redis_conn) for n in ALL_QUEUES], connection=redis_conn).work(burst=True)
    assert [e.details["stage"] for e in events(engine, case_id, "sla.escalated")] == ["warn", "breach"]
    assert queue(PAGING, redis_conn).scheduled_job_registry.count == 1  # the re-page, 10 minutes out


def test_the_lead_with_an_account_takes_the_claim(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    from router import claims
    from router.roles import Role
    from router.users import create_user

    with Session(engine) as s:
        create_user(s, name="pr-lead", role=Role.PR)
        s.commit()
    case_id = make_case(engine, 16)  # warn and breach are due; the breach reassigns to the lead
    timers.sync_cases([case_id])
    work(redis_conn)
    with Session(engine) as s:
        holder = claims.holder(s, case_id)
        case = s.get(Case, case_id)
        assert holder is not None and holder.name == "pr-lead"
        assert case is not None and case.assignee == "pr-lead" and case.priority == 2
    assert [e.actor for e in events(engine, case_id, "case.assigned")] == ["pr-lead"]


def test_the_fault_check_counts_missed_and_duplicate_stages(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 20)  # warn and breach owed, nothing fired yet
    assert timers.missed_and_duplicates(engine) == {"timers_missed": 2, "duplicate_pages": 0}
    timers.sync_cases([case_id])
    work(redis_conn)
    assert timers.missed_and_duplicates(engine) == {"timers_missed": 0, "duplicate_pages": 0}
    with Session(engine) as s:  # a stage that acted twice
        first = events(engine, case_id, "sla.escalated")[0]
        s.add(AuditEvent(actor="sla", action="sla.escalated", case_id=case_id, details=first.details))
        s.commit()
    assert timers.missed_and_duplicates(engine) == {"timers_missed": 0, "duplicate_pages": 1}


def test_a_stage_runs_at_its_exact_moment_never_before(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    # urgent in pr: the breach is 15 minutes after the post; this one falls due in 1.5 s.
    case_id = make_case(engine, 15 - 1.5 / 60)
    timers.sync_cases([case_id])
    work(redis_conn)  # the sync job, and the overdue warning; RQ's own scheduler runs too
    assert [e.details["stage"] for e in events(engine, case_id, "sla.escalated")] == ["warn"]
    breach = timers.next_fire_times([case_id], redis_conn)[f"sla-{case_id}-first-breach"]
    assert breach.timestamp() != int(breach.timestamp())  # the exact moment, not RQ's whole second
    assert timers.enqueue_due(connection=redis_conn) == 0
    time.sleep(max(0.0, (breach - utcnow()).total_seconds()) + 0.05)
    assert timers.enqueue_due(connection=redis_conn) == 1
    assert timers.enqueue_due(connection=redis_conn) == 0  # moved once, however many workers tick
    work(redis_conn)
    fired = [e for e in events(engine, case_id, "sla.escalated") if e.details["stage"] == "breach"]
    assert len(fired) == 1 and fired[0].at >= breach


def test_a_timer_job_is_small(engine, redis_conn) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(engine, 1)
    timers.sync_cases([case_id])
    work(redis_conn)
    # Every field under Redis's 64-byte limit keeps the hash compact: about a third of the memory.
    encoding = redis_conn.object("encoding", f"rq:job:sla-{case_id}-first-breach")
    assert encoding in (b"listpack", b"ziplist")
