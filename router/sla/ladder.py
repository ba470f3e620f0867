"""When each escalation stage of a case fires: its queue's ladder applied to every running
response clock. Pure; workers/timers.py turns these into RQ jobs.

A stage's offset counts in business time on the policy's calendar from the clock's start:
"-25%" of a 60-minute promise fires after 45 business minutes, "+15m" after 75.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.sla.calendar import add_business_time
from router.sla.clock import running_clocks
from router.sla.policy import SlaConfig, Stage

CLOCKS = ("first", "next")


@dataclass(frozen=True)
class Timer:
    case_id: int
    clock: str  # "first" or "next"
    stage: Stage
    due_at: datetime  # the clock's due time: a timer for another due time is stale
    fire_at: datetime

    @property
    def key(self) -> str:
        return timer_key(self.clock, self.stage.name)

    @property
    def job_id(self) -> str:
        return job_id(self.case_id, self.key)


def timer_key(clock: str, stage: str) -> str:
    return f"{clock}-{stage}"


def job_id(case_id: int, key: str) -> str:
    """`sla-{case_id}-{clock}-{stage}`: RQ 2 job ids allow only letters, digits, - and _."""
    return f"sla-{case_id}-{key}"


def timers_for(case: Any, config: SlaConfig) -> list[Timer]:
    """Every stage of the case's ladder on every running clock, in firing order."""
    ladder = config.ladder(case.queue)
    if case.id is None or not ladder:
        return []
    timers = []
    for clock in running_clocks(case, config):
        for stage in ladder:
            minutes = stage.at.business_minutes(clock.allowed)
            fire_at = add_business_time(clock.calendar, clock.started_at, minutes)
            timers.append(Timer(case.id, clock.kind, stage, clock.due_at, fire_at))
    return sorted(timers, key=lambda t: t.fire_at)


def all_timer_keys(config: SlaConfig) -> frozenset[str]:
    """Every key a case's timers can have under this config (to cancel them all)."""
    names = {stage.name for ladder in config.ladders.values() for stage in ladder}
    return frozenset(timer_key(clock, name) for clock in CLOCKS for name in names)
