"""Each rule's condition compiled to one Python expression: the routing path's boolean test.

`explain()` on the condition objects says why; the compiled check only says whether, without
building strings or walking objects. Both come from the same condition objects and a test
(tests/rules/test_compiler.py) holds them to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from rules.facts import PostFacts
from rules.view import PostView

Check = Callable[[PostView, PostFacts, Set[str]], bool]


class Constants:
    """Values the generated code refers to by name (frozensets, compiled patterns, bounds)."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name


def compile_check(condition: Any) -> Check:
    """`condition.source(constants)` is an expression over `v` (PostView), `f` (PostFacts) and
    `found` (the phrases present); it becomes `lambda v, f, found: <expression>`."""
    constants = Constants()
    expression = condition.source(constants)
    check: Check = eval(f"lambda v, f, found: {expression}", {"__builtins__": {}, **constants.names})
    return check


Batch = Callable[[PostView, PostFacts, Set[str]], list[int]]


def compile_batch(conditions: list[tuple[int, Any]]) -> Batch:
    """One function testing several rules in a row, returning the indices of those that pass:
    the rules every post must try (no word narrows them) cost one call, not one call each."""
    constants = Constants()
    lines = ["def batch(v, f, found):", "    passed = []"]
    for index, condition in conditions:
        lines += [f"    if {condition.source(constants)}:", f"        passed.append({index})"]
    lines.append("    return passed")
    namespace: dict[str, Any] = {"__builtins__": {}, **constants.names}
    exec("\n".join(lines), namespace)
    batch: Batch = namespace["batch"]
    return batch
