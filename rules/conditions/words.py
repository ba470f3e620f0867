"""Conditions on the text: words and phrases (through the rule set's word index), regexes."""

from __future__ import annotations

import re
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import Self

from yaml.nodes import Node, SequenceNode

from rules.compiler import Constants
from rules.conditions.base import Condition
from rules.nodes import Reader
from rules.text import normalize
from rules.view import PostView

_LITERAL = _constants.LITERAL


class Words(Condition):
    key = "words"
    summary = (
        "Any of these words or phrases appears: case- and accent-insensitive, whole words only, "
        "emoji match as themselves."
    )
    example = 'words: [lawyer, lawsuit, "legal action", "⚠️"]'
    uses = "text"
    cost = 0

    def __init__(self, phrases: tuple[str, ...]) -> None:
        self.phrases = phrases  # normalized, in file order
        self._set = frozenset(phrases)
        self._reasons = {p: f"words matched '{p}'" for p in phrases}  # built once: explain is on the hot path

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        raw = reader.texts(node, "`words`")
        if raw is None:
            return None
        phrases = []
        items = node.value if isinstance(node, SequenceNode) else [node]
        for text, item in zip(raw, items, strict=True):
            phrase = normalize(text).strip()
            if not phrase:
                reader.error(item, "`words`: an empty phrase matches nothing")
                return None
            phrases.append(phrase)
        return cls(tuple(dict.fromkeys(phrases)))

    def source(self, k: Constants) -> str:
        return f"(not {k.add(self._set)}.isdisjoint(found))"

    def explain(self, post: PostView) -> tuple[bool, str]:
        found = post.found
        for phrase in self.phrases:
            if phrase in found:
                return True, self._reasons[phrase]
        return False, "none of its words appear" if len(self.phrases) > 1 else f"no '{self.phrases[0]}'"

    def trigger_phrases(self) -> frozenset[str]:
        return self._set

    def all_phrases(self) -> frozenset[str]:
        return self._set


class Regex(Condition):
    key = "regex"
    summary = (
        "A regular expression (Python syntax) finds a match in the original text; "
        "case-insensitive unless the pattern starts with (?-i)."
    )
    example = r"regex: 'order\s*#?\d{6,}'"
    uses = "text"
    cost = 3

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.required = required_text(pattern)

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        source = reader.text(node, "`regex`")
        if source is None:
            return None
        flags = 0 if source.startswith("(?-i)") else re.IGNORECASE
        try:
            return cls(re.compile(source.removeprefix("(?-i)"), flags))
        except re.error as exc:
            reader.error(node, f"`regex`: invalid regular expression {source!r}: {exc}")
            return None

    def source(self, k: Constants) -> str:
        search = f"({k.add(self.pattern.search)}(f.text) is not None)"
        # a substring every match contains: most posts are ruled out without running the regex
        return f"({k.add(self.required)} in f.text and {search})" if self.required else search

    def explain(self, post: PostView) -> tuple[bool, str]:
        found = self.pattern.search(post.facts.text)
        if found is None:
            return False, f"regex /{self.pattern.pattern}/ found nothing"
        return True, f"regex matched '{found.group(0)[:60]}'"


def required_text(pattern: re.Pattern[str]) -> str:
    """The longest run of characters every match of the pattern contains ('://' for
    'https?://bit\\.ly/\\w+'), '' if none: consecutive literal characters at the top level of the
    pattern. Under IGNORECASE only ASCII characters without case count (a letter may match another
    case, or a Unicode look-alike such as the Kelvin sign)."""
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    best = run = ""
    for op, arg in _parser.parse(pattern.pattern, pattern.flags):
        if op is _LITERAL and (not ignore_case or (arg < 128 and not chr(arg).isalpha())):
            run += chr(arg)
            best = max(best, run, key=len)
        else:
            run = ""
    return best
