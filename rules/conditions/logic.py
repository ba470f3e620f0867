"""Combinators: all / any / not. Siblings are tried cheapest first (words before sentiment)."""

from __future__ import annotations

from typing import Self

from yaml.nodes import Node

from rules.compiler import Constants
from rules.conditions.base import Condition
from rules.nodes import Reader
from rules.view import PostView


def _by_cost(children: list[Condition]) -> tuple[Condition, ...]:
    return tuple(sorted(children, key=lambda c: c.cost))


def _parse_children(node: Node, reader: Reader, key: str) -> list[Condition] | None:
    from rules.conditions.registry import parse_condition

    items = reader.items(node, f"`{key}`")
    if items is None:
        return None
    if not items:
        reader.error(node, f"`{key}` needs at least one condition")
        return None
    children = [parse_condition(item, reader) for item in items]
    return None if any(c is None for c in children) else [c for c in children if c is not None]


class All(Condition):
    key = "all"
    summary = "Every condition of the list passes. Several keys in one mapping mean the same."
    example = "all: [{words: [refund]}, {followers: {at_least: 10000}}]"

    def __init__(self, children: list[Condition]) -> None:
        self.children = _by_cost(children)
        self.cost = max(c.cost for c in self.children)

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        children = _parse_children(node, reader, cls.key)
        return None if children is None else cls(children)

    def source(self, k: Constants) -> str:
        return "(" + " and ".join(c.source(k) for c in self.children) + ")"

    def explain(self, post: PostView) -> tuple[bool, str]:
        reasons = []
        for child in self.children:
            ok, because = child.explain(post)
            if not ok:
                return False, because
            reasons.append(because)
        return True, "; ".join(reasons)

    def trigger_phrases(self) -> frozenset[str] | None:
        known = [t for t in (c.trigger_phrases() for c in self.children) if t is not None]
        return min(known, key=len) if known else None

    def all_phrases(self) -> frozenset[str]:
        return frozenset().union(*(c.all_phrases() for c in self.children))


class Any(Condition):
    key = "any"
    summary = "At least one condition of the list passes."
    example = "any: [{verified: true}, {followers: {at_least: 50000}}]"

    def __init__(self, children: list[Condition]) -> None:
        self.children = _by_cost(children)
        self.cost = max(c.cost for c in self.children)

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        children = _parse_children(node, reader, cls.key)
        return None if children is None else cls(children)

    def source(self, k: Constants) -> str:
        return "(" + " or ".join(c.source(k) for c in self.children) + ")"

    def explain(self, post: PostView) -> tuple[bool, str]:
        first = ""
        for child in self.children:
            ok, because = child.explain(post)
            if ok:
                return True, because
            first = first or because
        return False, f"none of {len(self.children)} alternatives passed ({first}, ...)"

    def trigger_phrases(self) -> frozenset[str] | None:
        known = [c.trigger_phrases() for c in self.children]
        if any(t is None for t in known):
            return None
        return frozenset().union(*(t for t in known if t is not None))

    def all_phrases(self) -> frozenset[str]:
        return frozenset().union(*(c.all_phrases() for c in self.children))


class Not(Condition):
    key = "not"
    summary = "The condition (a mapping) does not pass."
    example = "not: {channel: facebook}"

    def __init__(self, child: Condition) -> None:
        self.child = child
        self.cost = child.cost

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        from rules.conditions.registry import parse_condition

        child = parse_condition(node, reader)
        return None if child is None else cls(child)

    def source(self, k: Constants) -> str:
        return f"(not {self.child.source(k)})"

    def explain(self, post: PostView) -> tuple[bool, str]:
        ok, because = self.child.explain(post)
        return not ok, f"not: {because}"

    def all_phrases(self) -> frozenset[str]:
        return self.child.all_phrases()
