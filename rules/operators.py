"""The one comparison table every numeric condition shares (followers, sentiment, thread...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Number = int | float


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    symbol: str
    arity: int  # 1: one bound; 2: [low, high]
    doc: str
    test: Callable[[Number, tuple[Number, ...]], bool]


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("at_least", ">=", 1, "value >= N", lambda v, a: v >= a[0]),
        Operator("at_most", "<=", 1, "value <= N", lambda v, a: v <= a[0]),
        Operator("more_than", ">", 1, "value > N", lambda v, a: v > a[0]),
        Operator("less_than", "<", 1, "value < N", lambda v, a: v < a[0]),
        Operator("equals", "==", 1, "value == N", lambda v, a: v == a[0]),
        Operator(
            "between", "between", 2, "low <= value <= high (both included)", lambda v, a: a[0] <= v <= a[1]
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One or more operator clauses, all of which must hold (e.g. at_least 10 and at_most 100)."""

    clauses: tuple[tuple[Operator, tuple[Number, ...]], ...]

    def test(self, value: Number) -> bool:
        return all(op.test(value, args) for op, args in self.clauses)

    def source(self, value: str, k: Any) -> str:
        """The test as a Python expression over `value` (an expression), for rules/compiler.py."""
        parts = []
        for op, args in self.clauses:
            if op.arity == 2:
                parts.append(f"({args[0]!r} <= {value} <= {args[1]!r})")
            else:
                parts.append(f"({value} {op.symbol} {args[0]!r})")
        return "(" + " and ".join(parts) + ")"

    def describe(self) -> str:
        parts = []
        for op, args in self.clauses:
            if op.arity == 2:
                parts.append(f"between {args[0]:g} and {args[1]:g}")
            else:
                parts.append(f"{op.symbol} {args[0]:g}")
        return " and ".join(parts)
