"""The ladder on a real `engage worker` process (RQ worker + its scheduler) with real time: each
stage fires once, near its moment, and killing the worker (its whole process group, scheduler
included) and starting another loses no timer.

Real time instead of a fake clock: the policy counts in seconds (6 s first response, stages at
3 s, 6 s, 9 s), so the test sees the scheduler itself fire the jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from rq import Worker
from sqlmodel import Session, col, select

from router.models import AuditEvent, Case
from router.sla.clock import apply_due_times
from router.sla.policy import SlaConfig, load_sla_config
from router.timeutil import utcnow
from workers import timers

SLA_YAML = """
calendars:
  always: {timezone: UTC, hours: 24x7}
policies:
  fast: {calendar: always, first_response: 6s, next_response: 6s}
escalation:
  pr:
    - {name: warn, at: "-50%", do: [notify_assignee]}
    - {name: breach, at: "0", do: [raise_priority]}
    - {name: late, at: "+3s", do: [reassign_to_lead]}
leads: {pr: pr-lead}
"""
ENGAGE = Path(sys.executable).with_name("engage")
SLACK = 2.5  # seconds a stage may be late: scheduler tick (1 s), job start, SQLite


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SlaConfig:
    path = tmp_path / "sla.yaml"
    path.write_text(SLA_YAML)
    monkeypatch.setenv("SLA_CONFIG_PATH", str(path))
    loaded = load_sla_config(path)
    monkeypatch.setattr(timers, "sla_config", lambda: loaded)
    return loaded


class Workers:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, connection) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
        before = {w.name for w in Worker.all(connection=connection)}
        proc = subprocess.Popen([str(ENGAGE), "worker"], env=os.environ.copy(), start_new_session=True)
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while not {w.name for w in Worker.all(connection=connection)} - before:
            assert proc.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker, its scheduler and any work horse
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers() -> Iterator[Workers]:
    running = Workers()
    try:
        yield running
    finally:
        running.stop_all()


def fired(engine) -> list[tuple[str, datetime]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "sla.escalated")).all()
    return [(e.details["stage"], e.at) for e in rows]


def wait_for(engine, stages: int, until: float) -> None:  # type: ignore[no-untyped-def]
    while len(fired(engine)) < stages and time.monotonic() < until:
        time.sleep(0.1)


def test_each_stage_fires_once_on_time_across_a_killed_worker(engine, redis_conn, config, workers) -> None:  # type: ignore[no-untyped-def]
    first = workers.start(redis_conn)
    start = utcnow()
    case = Case(
        channel="x",
        account="acme",
        author_handle="maria",
        queue="pr",
        status="new",
        assignee="dana",
        sla_policy="fast",
        ruleset_version="t",
        first_inbound_at=start,
        last_inbound_at=start,
    )
    apply_due_times(case, config, start)
    with Session(engine, expire_on_commit=False) as s:
        s.add(case)
        s.commit()
    assert case.id is not None
    timers.cases_changed([case.id], connection=redis_conn)
    t0 = time.monotonic()

    wait_for(engine, 1, t0 + 3 + SLACK + 2)
    assert [stage for stage, _ in fired(engine)] == ["warn"]
    workers.kill(first)  # before the breach at 6 s; its scheduler lock outlives it by a minute

    workers.start(redis_conn)
    # Until the new worker can take the scheduler lock, the periodic sweep rescues overdue timers
    # (workers/maintenance.py calls it; here the test ticks it as that sweep would).
    while len(fired(engine)) < 3 and time.monotonic() < t0 + 30:
        timers.rescue_overdue(connection=redis_conn)
        time.sleep(0.5)
    stages = fired(engine)
    assert [stage for stage, _ in stages] == ["warn", "breach", "late"]  # each once, in order
    for (stage, at), offset in zip(stages, (3, 6, 9), strict=True):
        late = (at - start).total_seconds() - offset
        assert -0.5 <= late <= SLACK + timers.RESCUE_GRACE.total_seconds(), (stage, late)
    time.sleep(1.5)
    assert len(fired(engine)) == 3  # nothing fires twice
    with Session(engine) as s:
        row = s.get(Case, case.id)
        assert row is not None and (row.priority, row.assignee) == (2, "pr-lead")
