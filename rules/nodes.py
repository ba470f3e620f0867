"""Reading YAML nodes with their positions, collecting every problem instead of stopping."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.errors import Problem

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}

_KIND = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a value"}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" — did you mean `{close[0]}`?" if close else ""


def describe(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return "nothing" if node.tag == NULL_TAG else f"`{node.value}`"
    return _KIND.get(type(node), "something else")


class Reader:
    """Typed accessors over YAML nodes; a wrong shape records a Problem and returns None."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, node: Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        column = node.start_mark.column + 1 if node is not None else 1
        self.problems.append(Problem(self.file, line, column, message))

    def mapping(
        self,
        node: Node,
        what: str,
        *,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> dict[str, Node] | None:
        """The entries of a mapping; unknown keys are reported with a suggestion."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, got {describe(node)}")
            return None
        entries: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if key in entries:
                self.error(key_node, f"duplicate field `{key}` in {what}")
            elif key not in allowed:
                self.error(key_node, f"unknown field `{key}` in {what}{did_you_mean(key, allowed)}")
            else:
                entries[key] = value_node
        for key in required:
            if key not in entries:
                self.error(node, f"{what} needs the field `{key}`")
        return entries

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == NULL_TAG or node.value == "":
            self.error(node, f"{what} must be text, got {describe(node)}")
            return None
        return str(node.value)

    def texts(self, node: Node, what: str) -> list[str] | None:
        """One text or a list of texts."""
        if isinstance(node, ScalarNode):
            one = self.text(node, what)
            return None if one is None else [one]
        if not isinstance(node, SequenceNode) or not node.value:
            self.error(node, f"{what} must be text or a non-empty list of texts, got {describe(node)}")
            return None
        values = [self.text(item, what) for item in node.value]
        return None if any(v is None for v in values) else [v for v in values if v is not None]

    def boolean(self, node: Node, what: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            lowered = node.value.lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
        self.error(node, f"{what} must be true or false, got {describe(node)}")
        return None

    def integer(self, node: Node, what: str) -> int | None:
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:
            try:
                return int(node.value.replace("_", ""), 0)
            except ValueError:
                pass
        self.error(node, f"{what} must be a whole number, got {describe(node)}")
        return None

    def number(self, node: Node, what: str) -> float | None:
        if isinstance(node, ScalarNode) and node.tag in (INT_TAG, FLOAT_TAG):
            try:
                value = node.value.replace("_", "")
                return float(int(value, 0)) if node.tag == INT_TAG else float(value)
            except ValueError:
                pass
        self.error(node, f"{what} must be a number, got {describe(node)}")
        return None

    def items(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, got {describe(node)}")
            return None
        return list(node.value)
