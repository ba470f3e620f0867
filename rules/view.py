"""One post as the conditions see it: normalized text and the phrases found in it, computed once,
and the costly facts (sentiment, language, local time) computed only if a condition asks."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from rules import nlp
from rules.facts import PostFacts

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Calendar:
    """The rule set's clock: its time zone and business hours."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    business_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    opens: time = time(9, 0)
    closes: time = time(18, 0)

    def is_business_hours(self, local: datetime) -> bool:
        return local.weekday() in self.business_days and self.opens <= local.time() < self.closes


_UNSET = object()


class PostView:
    __slots__ = ("_business", "_lang", "_local", "_sentiment", "calendar", "facts", "found", "text")

    def __init__(self, facts: PostFacts, text: str, found: Set[str], calendar: Calendar) -> None:
        self.facts = facts
        self.text = text  # normalized (rules.text.normalize)
        self.found = found  # normalized phrases of the rule set present as whole words
        self.calendar = calendar
        self._sentiment: float | None = None
        self._lang: str | None = None
        self._local: datetime | None = None
        self._business: bool | None = None

    @property
    def sentiment(self) -> float:
        if self._sentiment is None:
            self._sentiment = nlp.sentiment(self.facts.text)
        return self._sentiment

    @property
    def language(self) -> str:
        if self._lang is None:
            tag = (self.facts.lang or "").strip().lower()
            if tag and tag not in ("und", "zxx", "qme", "qht", "art"):
                self._lang = tag.split("-")[0]
            else:
                self._lang = nlp.detect_language(self.facts.text)
        return self._lang

    @property
    def local(self) -> datetime:
        if self._local is None:
            self._local = self.facts.created_at.astimezone(self.calendar.tz)
        return self._local

    @property
    def business_hours(self) -> bool:
        if self._business is None:
            self._business = self.calendar.is_business_hours(self.local)
        return self._business
