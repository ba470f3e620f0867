"""A rule as loaded: condition, actions, examples, and where it was written."""

from __future__ import annotations

from dataclasses import dataclass

from rules.actions import Actions
from rules.conditions.base import Condition
from rules.examples import Example
from rules.outcome import Priority, QueueName


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    when: Condition
    then: Actions
    description: str = ""
    order: int = 0
    file: str = ""
    line: int = 0
    column: int = 0
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class Defaults:
    """The outcome of a post no rule decides (field by field)."""

    queue: QueueName = QueueName.FORUM
    priority: Priority = Priority.NORMAL
    sla: str = "standard"
