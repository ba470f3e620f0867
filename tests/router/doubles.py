"""A router double for pipeline tests: routes on one keyword, so tests control the outcome."""

from __future__ import annotations

from rules.facts import PostFacts
from rules.outcome import Decision, Hit, Priority, QueueName


class KeywordRouter:
    version = "test-1"

    def __init__(self) -> None:
        self.seen: list[PostFacts] = []

    def decide(self, facts: PostFacts) -> Decision:
        self.seen.append(facts)
        if "lawyer" in facts.text.lower():
            return Decision(
                QueueName.PR,
                Priority.URGENT,
                "urgent",
                self.version,
                tags=("legal",),
                page_pr=True,
                matched=("legal",),
                hits=(Hit("legal", True, "words: lawyer"),),
            )
        return Decision(QueueName.FORUM, Priority.NORMAL, "standard", self.version, matched=("default",))
