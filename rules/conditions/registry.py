"""The one list of condition names a rule file may use."""

from __future__ import annotations

from yaml.nodes import Node

from rules.conditions.author import Cases30d, Followers, KnownCustomer, OpenCases, Verified
from rules.conditions.base import Condition
from rules.conditions.clock import BusinessHours, TimeOfDay, Weekday
from rules.conditions.logic import All, Any, Not
from rules.conditions.post import Account, Channel, Language, Sentiment
from rules.conditions.thread import DistinctAuthors, RepliesLastHour, ThreadPosts
from rules.conditions.words import Regex, Words
from rules.nodes import Reader

CONDITIONS: dict[str, type[Condition]] = {
    c.key: c
    for c in (
        Words,
        Regex,
        Channel,
        Account,
        Followers,
        Verified,
        KnownCustomer,
        Sentiment,
        Language,
        ThreadPosts,
        DistinctAuthors,
        RepliesLastHour,
        TimeOfDay,
        Weekday,
        BusinessHours,
        OpenCases,
        Cases30d,
        All,
        Any,
        Not,
    )
}


def parse_condition(node: Node, reader: Reader) -> Condition | None:
    """A mapping of condition names to arguments; several names must all pass."""
    entries = reader.mapping(node, "a condition", allowed=CONDITIONS)
    if entries is None:
        return None
    if not entries:
        if not node.value:
            reader.error(node, f"empty condition; use one of: {', '.join(CONDITIONS)}")
        return None
    parsed = [CONDITIONS[key].parse(value, reader) for key, value in entries.items()]
    if any(p is None for p in parsed):
        return None
    conditions = [p for p in parsed if p is not None]
    return conditions[0] if len(conditions) == 1 else All(conditions)
