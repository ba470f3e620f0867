"""The rule file vocabulary, exported from the registries: for docs, `check` hints and a future UI.

`python -m rules.vocabulary` prints the Markdown tables of docs/rules.md; `--json` prints JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rules.actions import ACTIONS, PRIORITIES, QUEUES
from rules.conditions.registry import CONDITIONS
from rules.examples import EXPECT_FIELDS, POST_FIELDS
from rules.loader import RULE_FIELDS, TOP_FIELDS
from rules.operators import OPERATORS


def vocabulary() -> dict[str, Any]:
    return {
        "file_fields": list(TOP_FIELDS),
        "rule_fields": list(RULE_FIELDS),
        "conditions": [
            {"name": c.key, "summary": c.summary, "example": c.example, "reads": c.uses}
            for c in CONDITIONS.values()
        ],
        "operators": [{"name": o.name, "meaning": o.doc} for o in OPERATORS.values()],
        "actions": [{"name": a.key, "summary": a.summary, "example": a.example} for a in ACTIONS.values()],
        "queues": list(QUEUES),
        "priorities": list(PRIORITIES),
        "example_fields": list(POST_FIELDS),
        "expect_fields": list(EXPECT_FIELDS),
    }


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown() -> str:
    v = vocabulary()
    parts = [
        "### Conditions (`when:`)",
        _table(
            ("name", "what it tests", "example"),
            [(f"`{c['name']}`", c["summary"], f"`{c['example']}`") for c in v["conditions"]],
        ),
        "### Comparison operators (numeric conditions)",
        _table(("operator", "meaning"), [(f"`{o['name']}`", o["meaning"]) for o in v["operators"]]),
        "A bare number means `at_least`: `followers: 10000`.",
        "### Actions (`then:`)",
        _table(
            ("name", "what it does", "example"),
            [(f"`{a['name']}`", a["summary"], f"`{a['example']}`") for a in v["actions"]],
        ),
        "### Example posts (`examples:`)",
        "Post fields: " + ", ".join(f"`{f}`" for f in v["example_fields"]) + ".",
        "Expectations (`expect:`): " + ", ".join(f"`{f}`" for f in v["expect_fields"]) + ".",
    ]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(json.dumps(vocabulary(), indent=1) + "\n" if "--json" in sys.argv else markdown())
