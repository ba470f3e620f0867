"""What routing decides: the vocabulary shared by the rules engine and the router."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class QueueName(StrEnum):
    FORUM = "forum"
    CUSTOMER_SERVICE = "customer_service"
    PR = "pr"


class Priority(IntEnum):
    """Lower value = more urgent, so ORDER BY priority puts urgent first."""

    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Priority:
        return cls[value.strip().upper()]


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule's verdict on one post: whether it matched and which condition decided it."""

    rule_id: str
    matched: bool
    because: str  # e.g. "any.words matched 'lawyer'" or "not: followers >= 10000 was false"


@dataclass(frozen=True, slots=True)
class Decision:
    queue: QueueName
    priority: Priority
    sla_policy: str
    ruleset_version: str
    tags: tuple[str, ...] = ()
    page_pr: bool = False
    needs_approval: bool = False
    risk: float = 0.0
    matched: tuple[str, ...] = ()  # ids of the rules that fired, in the order they were applied
    # why: the matched rules' Hits, in `matched` order; every rule's (matched or not) when the
    # decision was made with evaluate(..., explain=True), for `engage rules explain`
    hits: tuple[Hit, ...] = field(default=(), repr=False)

    def explanation(self) -> dict[str, Any]:
        """JSON-ready record of why, stored with every RoutingDecision."""
        return {
            "queue": self.queue.value,
            "priority": self.priority.label,
            "sla_policy": self.sla_policy,
            "tags": list(self.tags),
            "page": self.page_pr,
            "needs_approval": self.needs_approval,
            "risk": self.risk,
            "matched": list(self.matched),
            "ruleset_version": self.ruleset_version,
            "why": [{"rule": h.rule_id, "because": h.because} for h in self.hits if h.matched],
        }
