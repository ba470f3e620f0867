from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rules.engine import RuleSet, evaluate
from rules.facts import AuthorHistory, PostFacts, ThreadFacts
from rules.loader import load_ruleset

WEDNESDAY_2PM = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
SLA = frozenset({"urgent", "standard", "relaxed"})


def post(text: str = "hello", **kw: Any) -> PostFacts:
    thread = ThreadFacts(
        posts=kw.pop("thread_posts", 1),
        distinct_authors=kw.pop("distinct_authors", 1),
        replies_last_hour=kw.pop("replies_last_hour", 0),
    )
    history = AuthorHistory(open_cases=kw.pop("open_cases", 0), cases_30d=kw.pop("cases_30d", 0))
    fields: dict[str, Any] = {
        "text": text,
        "channel": "x",
        "account": "@acme",
        "author_handle": "someone",
        "created_at": WEDNESDAY_2PM,
        "lang": "en",
        "thread": thread,
        "history": history,
    }
    fields.update(kw)
    return PostFacts(**fields)


RULESET_HEAD = "defaults: {queue: forum, priority: normal, sla: relaxed}\n"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def _write(text: str, name: str = "rules.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def ruleset(write: Callable[..., Path]) -> Callable[..., RuleSet]:
    def _ruleset(body: str, head: str = RULESET_HEAD, **kw: Any) -> RuleSet:
        return load_ruleset(write(head + body), known_sla_policies=kw.get("known", SLA))

    return _ruleset


@pytest.fixture
def passes(ruleset: Callable[..., RuleSet]) -> Callable[[str, PostFacts], bool]:
    """Whether one condition (YAML flow mapping) passes for a post; the compiled check and
    explain must agree."""

    def _passes(condition: str, facts: PostFacts, head: str = RULESET_HEAD) -> bool:
        rs = ruleset(f"rules:\n  - id: r\n    when: {condition}\n    then: {{tags: [hit]}}\n", head=head)
        fast = evaluate(facts, rs)
        slow = evaluate(facts, rs, explain=True)
        assert fast.matched == slow.matched, slow.hits
        return fast.matched == ("r",)

    return _passes
