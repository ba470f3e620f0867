"""Conditions on when the post was made, in the rule set's time zone (top-level `timezone:`)."""

from __future__ import annotations

import re
from datetime import time
from typing import Self

from yaml.nodes import Node, SequenceNode

from rules.compiler import Constants
from rules.conditions.base import Condition, FlagCondition, choice_list
from rules.nodes import Reader
from rules.view import WEEKDAYS, PostView

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(node: Node, reader: Reader, what: str) -> time | None:
    text = reader.text(node, what)
    if text is None:
        return None
    found = _HHMM.match(text.strip())
    if not found:
        reader.error(node, f'{what} must be a time of day like "09:30", got `{text}`')
        return None
    return time(int(found.group(1)), int(found.group(2)))


class TimeOfDay(Condition):
    key = "time_of_day"
    summary = (
        'Local time of the post: {between: ["22:00", "06:00"]} (may wrap midnight; start included, '
        'end excluded), {after: "18:00"} or {before: "08:00"}.'
    )
    example = 'time_of_day: {between: ["22:00", "06:00"]}'
    uses = "created_at"

    def __init__(self, start: time, end: time) -> None:
        self.start, self.end = start, end

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        entries = reader.mapping(node, "`time_of_day`", allowed=("between", "after", "before"))
        if not entries:
            if entries == {}:
                reader.error(node, "`time_of_day` needs `between`, `after` or `before`")
            return None
        if "between" in entries:
            pair = entries["between"]
            if not isinstance(pair, SequenceNode) or len(pair.value) != 2:
                reader.error(pair, '`time_of_day.between` must be two times like ["22:00", "06:00"]')
                return None
            start = parse_hhmm(pair.value[0], reader, "`time_of_day.between`")
            end = parse_hhmm(pair.value[1], reader, "`time_of_day.between`")
        else:
            after, before = entries.get("after"), entries.get("before")
            start = parse_hhmm(after, reader, "`time_of_day.after`") if after else time(0, 0)
            end = parse_hhmm(before, reader, "`time_of_day.before`") if before else time(0, 0)
        if start is None or end is None:
            return None
        return cls(start, end)

    def source(self, k: Constants) -> str:
        start, end = k.add(self.start), k.add(self.end)
        if self.start >= self.end:
            return f"(v.local.time() >= {start} or v.local.time() < {end})"
        return f"({start} <= v.local.time() < {end})"

    def explain(self, post: PostView) -> tuple[bool, str]:
        now = post.local.time()
        # start >= end wraps midnight (start == end: the whole day)
        wraps = self.start >= self.end
        ok = (now >= self.start or now < self.end) if wraps else (self.start <= now < self.end)
        span = f"{self.start:%H:%M}-{self.end:%H:%M}"
        return ok, f"local time {now:%H:%M} is {'' if ok else 'not '}within {span}"


class Weekday(Condition):
    key = "weekday"
    summary = "Local day of the week: one or a list of mon, tue, wed, thu, fri, sat, sun."
    example = "weekday: [sat, sun]"
    uses = "created_at"

    def __init__(self, days: frozenset[int]) -> None:
        self.days = days

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        days = choice_list(node, reader, "weekday", {d: i for i, d in enumerate(WEEKDAYS)})
        return None if days is None else cls(frozenset(days))

    def source(self, k: Constants) -> str:
        return f"(v.local.weekday() in {k.add(self.days)})"

    def explain(self, post: PostView) -> tuple[bool, str]:
        day = post.local.weekday()
        return day in self.days, f"weekday is {WEEKDAYS[day]}"


class BusinessHours(FlagCondition):
    key = "business_hours"
    summary = "Whether the post was made within business hours (top-level `business_hours:`)."
    example = "business_hours: false"
    uses = "created_at"
    value_source = "v.business_hours"

    @staticmethod
    def read(post: PostView) -> bool:
        return post.business_hours
