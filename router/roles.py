"""Who may see and do what: the five roles, the queues each works, and who approves."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from rules.outcome import QueueName


class Role(StrEnum):
    FORUM_MANAGER = "forum_manager"
    CUSTOMER_SERVICE = "customer_service"
    PR = "pr"
    MANAGER = "manager"
    ADMIN = "admin"


ALL_QUEUES = frozenset(q.value for q in QueueName)

# The queues each role works. PR also sees anything flagged risky (see `can_see`).
QUEUES_BY_ROLE: dict[Role, frozenset[str]] = {
    Role.FORUM_MANAGER: ALL_QUEUES,
    Role.CUSTOMER_SERVICE: frozenset({QueueName.CUSTOMER_SERVICE.value}),
    Role.PR: frozenset({QueueName.PR.value}),
    Role.MANAGER: ALL_QUEUES,
    Role.ADMIN: frozenset(),
}

AGENTS = frozenset({Role.FORUM_MANAGER, Role.CUSTOMER_SERVICE, Role.PR, Role.MANAGER})
APPROVERS = frozenset({Role.PR, Role.MANAGER})
RISK_THRESHOLD = 0.5


class Visible(Protocol):
    queue: str
    risk: float
    page_pr: bool


def is_risky(case: Visible) -> bool:
    return case.page_pr or case.risk >= RISK_THRESHOLD


def sees_risky(role: Role) -> bool:
    return role == Role.PR


def can_see(role: Role, case: Visible) -> bool:
    return case.queue in QUEUES_BY_ROLE[role] or (sees_risky(role) and is_risky(case))


def can_approve(role: Role) -> bool:
    return role in APPROVERS
