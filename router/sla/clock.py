"""The SLA clock: a case's timeline and policy in, its due times out. Pure and fast; both ingest
paths call it on a Case or a batch CaseState (anything with the Case's attributes).

- first_response_due_at: first_inbound_at + first_response, on the policy's calendar. It stays
  after we answer (reports compare against it); it stops counting towards next_due_at then.
- next_response_due_at: when the customer spoke after our last response, from their first post
  since (the end of the pause our response opened, else last_inbound_at) + next_response; None
  when nothing is owed, before the first response (first response is owed then), or once closed.
- resolution_due_at: first_inbound_at + resolution, not counting the pauses (our answer until the
  customer's next post). None while a pause that began before the due time is still open.
- next_due_at: the earliest due time still running; None once the case is resolved or merged.

A case whose policy this config does not know is timed with the config's default policy.
Due times always follow the live config. `sla_policy_version` records the policy the case started
under and is set once; it changes only when the case's policy itself changes (a PR escalation),
or when a caller clears it to re-apply the current definition, e.g. on a handoff (`reapply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from router.models import OPEN_STATUSES
from router.sla.calendar import Calendar, ClockPaused, Pause, add_business_time
from router.sla.policy import SlaConfig, SlaPolicy

_OPEN = frozenset(s.value for s in OPEN_STATUSES)


def update_pauses(case: Any, direction: str, at: datetime) -> None:
    """Our answer to a customer who spoke last opens a pause; the customer's next post closes it.
    Works whether the case's timeline already includes this post or not."""
    pauses: list[list[str | None]] = list(case.sla_pauses or [])
    is_open = bool(pauses) and pauses[-1][1] is None
    if direction == "outbound":
        last_in = case.last_inbound_at
        if not is_open and last_in is not None and last_in <= at:
            case.sla_pauses = [*pauses, [_iso(at), None]]
    elif is_open and _parse(pauses[-1][0]) <= at:
        case.sla_pauses = [*pauses[:-1], [pauses[-1][0], _iso(at)]]


def apply_due_times(case: Any, config: SlaConfig, now: datetime) -> None:
    """Set the case's due times from its timeline. `now` is not part of the arithmetic (the same
    timeline gives the same due times on every path); it only guards against naive datetimes."""
    if now.tzinfo is None:
        raise ValueError("apply_due_times needs an aware `now`")
    policy = config.policy_or_default(case.sla_policy)
    first_in = case.first_inbound_at
    if policy is None or first_in is None:
        _set(case, None, None, None)
        return
    if case.sla_policy_version is None or not case.sla_policy_version.startswith(f"{policy.name}:"):
        case.sla_policy_version = policy.version
    calendar = config.calendar(policy.calendar)
    first_due = add_business_time(calendar, first_in, policy.first_response)
    still_open = case.status in _OPEN
    next_due = _next_response_due(case, calendar, policy) if still_open else None
    resolution_due = _resolution_due(case, calendar, policy)
    _set(case, first_due, next_due, resolution_due)


def reapply(case: Any, config: SlaConfig, now: datetime) -> None:
    """Time the case with the current definition of its policy, e.g. after a handoff."""
    case.sla_policy_version = None
    apply_due_times(case, config, now)


def pauses_of(case: Any) -> list[Pause]:
    return [(_parse(start), _parse(end) if end else None) for start, end in case.sla_pauses or [] if start]


@dataclass(frozen=True)
class RunningClock:
    """A response clock that is counting: what escalation ladders watch."""

    kind: str  # "first" or "next" (response)
    started_at: datetime
    allowed: float  # business minutes
    due_at: datetime
    calendar: Calendar


def running_clocks(case: Any, config: SlaConfig) -> list[RunningClock]:
    """The first- and next-response clocks still counting; none once the case is closed."""
    policy = config.policy_or_default(case.sla_policy)
    if policy is None or case.status not in _OPEN or case.first_inbound_at is None:
        return []
    calendar = config.calendar(policy.calendar)
    clocks = []
    if case.first_response_at is None:
        due = add_business_time(calendar, case.first_inbound_at, policy.first_response)
        clocks.append(RunningClock("first", case.first_inbound_at, policy.first_response, due, calendar))
    owed_since = _owed_since(case)
    if owed_since is not None:
        due = add_business_time(calendar, owed_since, policy.next_response)
        clocks.append(RunningClock("next", owed_since, policy.next_response, due, calendar))
    return clocks


def _owed_since(case: Any) -> datetime | None:
    """When the customer first spoke after our last response; None when nothing is owed."""
    last_in: datetime | None = case.last_inbound_at
    last_out: datetime | None = case.last_response_at
    if case.first_response_at is None or last_in is None or last_out is None or last_in <= last_out:
        return None
    for _, end in reversed(pauses_of(case)):
        if end is not None and last_out < end <= last_in:
            return end  # the customer's first post after our last response
    return last_in


def _next_response_due(case: Any, calendar: Calendar, policy: SlaPolicy) -> datetime | None:
    owed_since = _owed_since(case)
    return None if owed_since is None else add_business_time(calendar, owed_since, policy.next_response)


def _resolution_due(case: Any, calendar: Calendar, policy: SlaPolicy) -> datetime | None:
    if policy.resolution is None:
        return None
    try:
        return add_business_time(calendar, case.first_inbound_at, policy.resolution, pauses_of(case))
    except ClockPaused:
        return None


def _set(case: Any, first: datetime | None, following: datetime | None, resolution: datetime | None) -> None:
    case.first_response_due_at = first
    case.next_response_due_at = following
    case.resolution_due_at = resolution
    running = [following]
    if case.first_response_at is None:
        running.append(first)
    running.append(resolution)
    due = [d for d in running if d is not None]
    case.next_due_at = min(due) if due and case.status in _OPEN else None


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _parse(value: str | None) -> datetime:
    parsed = datetime.fromisoformat(value or "")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
