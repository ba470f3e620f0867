from __future__ import annotations

from pathlib import Path

from rules.conditions.registry import CONDITIONS
from rules.vocabulary import markdown, vocabulary

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_vocabulary_lists_every_condition_and_action() -> None:
    v = vocabulary()
    assert [c["name"] for c in v["conditions"]] == list(CONDITIONS)
    assert {a["name"] for a in v["actions"]} == {
        "queue", "priority", "sla", "tags", "risk", "page", "approval", "stop",
    }  # fmt: skip
    assert all(c["summary"] and c["example"] for c in v["conditions"])


def test_docs_carry_the_generated_vocabulary() -> None:
    assert markdown() in DOCS.read_text(encoding="utf-8"), "run: python -m rules.vocabulary --update-docs"


def test_every_documented_example_parses(ruleset) -> None:
    for c in vocabulary()["conditions"]:
        ruleset(f"rules:\n  - id: r\n    when: {{{c['example']}}}\n    then: {{tags: [x]}}\n")
