"""How a routing decision is reached for a post, and how it changes its case."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from router.models import Case
from rules.facts import PostFacts
from rules.outcome import Decision, Priority, QueueName


class Router(Protocol):
    """Decides for one post. Pure: no I/O, microseconds; side effects happen after commit."""

    @property
    def version(self) -> str: ...

    def decide(self, facts: PostFacts) -> Decision: ...


def apply_to_new_case(case: Case, decision: Decision) -> None:
    case.queue = decision.queue.value
    case.priority = int(decision.priority)
    case.sla_policy = decision.sla_policy
    case.ruleset_version = decision.ruleset_version
    case.tags = sorted(set(decision.tags))
    case.risk = decision.risk
    case.page_pr = decision.page_pr
    case.needs_approval = decision.needs_approval


def apply_to_open_case(case: Case, decision: Decision) -> bool:
    """A later post can only raise the stakes: move to PR, raise priority, add tags and risk.
    It never quietly undoes what a person decided (a handoff, a lowered priority). Returns
    whether the case changed."""
    before = (case.queue, case.priority, case.sla_policy, tuple(case.tags), case.risk, case.page_pr)
    if decision.queue == QueueName.PR and case.queue != QueueName.PR.value:
        case.queue = QueueName.PR.value
        case.sla_policy = decision.sla_policy
    if decision.priority < Priority(case.priority):
        case.priority = int(decision.priority)
    case.tags = sorted(set(case.tags) | set(decision.tags))
    case.risk = max(case.risk, decision.risk)
    case.page_pr = case.page_pr or decision.page_pr
    case.needs_approval = case.needs_approval or decision.needs_approval
    case.ruleset_version = decision.ruleset_version
    return before != (case.queue, case.priority, case.sla_policy, tuple(case.tags), case.risk, case.page_pr)


def route(case: Case, decision: Decision) -> bool:
    """Apply a decision to its case; returns whether the case was new (had no queue yet)."""
    is_new = not case.queue
    if is_new:
        apply_to_new_case(case, decision)
    else:
        apply_to_open_case(case, decision)
    return is_new


def decision_row(case_id: int, post_id: int, decision: Decision, at: datetime) -> dict[str, Any]:
    """The stored RoutingDecision, the same from both ingest paths."""
    return {
        "case_id": case_id,
        "post_id": post_id,
        "ruleset_version": decision.ruleset_version,
        "queue": decision.queue.value,
        "priority": int(decision.priority),
        "sla_policy": decision.sla_policy,
        "matched": list(decision.matched),
        "explanation": decision.explanation(),
        "created_at": at,
    }


def routed_details(
    *, post_id: int, platform_id: str, channel: str, case: Case, decision: Decision, is_new: bool
) -> dict[str, Any]:
    """The details of a `case.routed` audit event."""
    return {
        "post_id": post_id,
        "platform_id": platform_id,
        "channel": channel,
        "queue": case.queue,
        "priority": case.priority,
        "rules": list(decision.matched),
        "ruleset_version": decision.ruleset_version,
        "new_case": is_new,
    }
