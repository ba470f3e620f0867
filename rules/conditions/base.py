"""What every condition is, and the shared shape of numeric and yes/no conditions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

from yaml.nodes import MappingNode, Node, SequenceNode

from rules.compiler import Constants
from rules.nodes import Reader, describe, did_you_mean
from rules.operators import OPERATORS, Comparison, Number, Operator
from rules.view import PostView


class Condition(ABC):
    """`source` is a Python expression saying whether the post passes, compiled once per rule
    (rules/compiler.py) for the routing path; `explain` says the same and, either way, why.
    Both must agree."""

    key: ClassVar[str]
    summary: ClassVar[str]
    example: ClassVar[str]  # the YAML of one use, for docs and `check` hints
    cost: int = 1  # siblings in all/any are tried cheapest first (all/any/not set their own)
    uses: ClassVar[str] = ""  # the fact read, for the docs

    @classmethod
    @abstractmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None: ...

    @abstractmethod
    def source(self, k: Constants) -> str:
        """An expression over `v` (PostView), `f` (PostFacts), `found` (phrases present)."""

    @abstractmethod
    def explain(self, post: PostView) -> tuple[bool, str]: ...

    def trigger_phrases(self) -> frozenset[str] | None:
        """Normalized phrases of which at least one must be in the post for this to pass, or None
        when the condition can pass without any (then its rule is always a candidate)."""
        return None

    def all_phrases(self) -> frozenset[str]:
        """Every phrase this condition looks up in the post (for the word index)."""
        return frozenset()


def parse_comparison(node: Node, reader: Reader, what: str) -> Comparison | None:
    """`N` (meaning at least N), or a mapping of operators: {at_least: 10, at_most: 20},
    {between: [10, 20]}."""
    if not isinstance(node, MappingNode):
        bound = reader.number(node, f"`{what}` (a number, or a mapping like {{at_least: 10}})")
        return None if bound is None else Comparison(((OPERATORS["at_least"], (bound,)),))
    entries = reader.mapping(node, f"`{what}`", allowed=OPERATORS)
    if entries is None:
        return None
    if not entries:
        reader.error(node, f"`{what}` needs an operator: {', '.join(OPERATORS)}")
        return None
    clauses: list[tuple[Operator, tuple[Number, ...]]] = []
    for name, value in entries.items():
        op = OPERATORS[name]
        if op.arity == 2:
            if not isinstance(value, SequenceNode) or len(value.value) != 2:
                reader.error(value, f"`{what}.{name}` must be a list of two numbers [low, high]")
                return None
            low, high = (reader.number(v, f"`{what}.{name}` bound") for v in value.value)
            if low is None or high is None:
                return None
            if low > high:
                reader.error(value, f"`{what}.{name}`: low bound {low:g} is above high bound {high:g}")
                return None
            clauses.append((op, (low, high)))
        else:
            bound = reader.number(value, f"`{what}.{name}`")
            if bound is None:
                return None
            clauses.append((op, (bound,)))
    return Comparison(tuple(clauses))


class NumericCondition(Condition):
    """A number read from the post compared with the shared operator table."""

    value_source: ClassVar[str]  # the same value as an expression, e.g. "f.author_followers"

    @staticmethod
    def read(post: PostView) -> Number:  # each subclass reads its own fact
        raise NotImplementedError

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        # the reason's fixed parts, built once: a matched rule's reason is built for every post
        described = comparison.describe()
        self._passes = f" is {described}"
        self._fails = f" is not {described}"

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        comparison = parse_comparison(node, reader, cls.key)
        return None if comparison is None else cls(comparison)

    def source(self, k: Constants) -> str:
        return self.comparison.source(self.value_source, k)

    def explain(self, post: PostView) -> tuple[bool, str]:
        value = type(self).read(post)
        ok = self.comparison.test(value)
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        return ok, f"{self.key} {shown}{self._passes if ok else self._fails}"


class FlagCondition(Condition):
    """A yes/no fact of the post: `verified: true`."""

    value_source: ClassVar[str]

    @staticmethod
    def read(post: PostView) -> bool:  # each subclass reads its own fact
        raise NotImplementedError

    def __init__(self, expected: bool) -> None:
        self.expected = expected
        self._true, self._false = f"{self.key} is true", f"{self.key} is false"

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        expected = reader.boolean(node, f"`{cls.key}`")
        return None if expected is None else cls(expected)

    def source(self, k: Constants) -> str:
        return f"(({self.value_source}) is {self.expected})"

    def explain(self, post: PostView) -> tuple[bool, str]:
        value = type(self).read(post)
        if value is True or value is False:
            return value == self.expected, self._true if value else self._false
        return value == self.expected, f"{self.key} is {str(value).lower()}"


def choice_list(node: Node, reader: Reader, what: str, choices: dict[str, int]) -> list[int] | None:
    """Names from a closed set (e.g. weekdays), with suggestions for typos."""
    names = reader.texts(node, what)
    if names is None:
        return None
    picked = []
    for name, item in zip(names, node.value if isinstance(node, SequenceNode) else [node], strict=True):
        if name.lower() not in choices:
            reader.error(item, f"unknown {what} {describe(item)}{did_you_mean(name.lower(), choices)}")
            return None
        picked.append(choices[name.lower()])
    return picked
