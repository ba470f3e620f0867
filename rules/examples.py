"""A rule's `examples:`: posts with the outcome they must get. They are the rule's tests."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from yaml.nodes import Node

from rules.actions import parse_priority, parse_queue, parse_sla
from rules.conditions.base import parse_comparison
from rules.facts import AuthorHistory, PostFacts, ThreadFacts
from rules.nodes import Reader
from rules.operators import Comparison
from rules.outcome import Decision, Priority, QueueName

DEFAULT_AT = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
POST_FIELDS = (
    "text", "channel", "account", "author", "followers", "verified", "known_customer", "lang", "at",
    "thread_posts", "distinct_authors", "replies_last_hour", "open_cases", "cases_30d",
)  # fmt: skip
EXPECT_FIELDS = ("fires", "queue", "priority", "sla", "tags", "page", "approval", "risk", "matched")


@dataclass(frozen=True, slots=True)
class Expectation:
    fires: bool | None = None  # whether this example's own rule matches
    queue: QueueName | None = None
    priority: Priority | None = None
    sla: str | None = None
    tags: tuple[str, ...] = ()  # must all be present
    page: bool | None = None
    approval: bool | None = None
    risk: Comparison | None = None
    matched: tuple[str, ...] = ()  # rule ids that must all fire


@dataclass(frozen=True, slots=True)
class Example:
    rule_id: str
    file: str
    line: int
    facts: PostFacts
    expect: Expectation

    def failures(self, decision: Decision) -> list[str]:
        """What differs from the expectation; empty when the example passes."""
        e, d, wrong = self.expect, decision, []
        if e.fires is not None and (self.rule_id in d.matched) != e.fires:
            wrong.append(f"rule {'did not fire' if e.fires else 'fired'} (expected fires: {e.fires})")
        if e.queue is not None and d.queue != e.queue:
            wrong.append(f"queue is {d.queue.value}, expected {e.queue.value}")
        if e.priority is not None and d.priority != e.priority:
            wrong.append(f"priority is {d.priority.label}, expected {e.priority.label}")
        if e.sla is not None and d.sla_policy != e.sla:
            wrong.append(f"sla is {d.sla_policy}, expected {e.sla}")
        missing = [t for t in e.tags if t not in d.tags]
        if missing:
            wrong.append(f"tags {list(d.tags)} lack {missing}")
        if e.page is not None and d.page_pr != e.page:
            wrong.append(f"page is {str(d.page_pr).lower()}, expected {str(e.page).lower()}")
        if e.approval is not None and d.needs_approval != e.approval:
            wrong.append(f"approval is {str(d.needs_approval).lower()}, expected {str(e.approval).lower()}")
        if e.risk is not None and not e.risk.test(d.risk):
            wrong.append(f"risk {d.risk:g} is not {e.risk.describe()}")
        absent = [r for r in e.matched if r not in d.matched]
        if absent:
            wrong.append(f"rules {absent} did not fire (fired: {list(d.matched)})")
        return wrong


def parse_example(
    node: Node, reader: Reader, rule_id: str, known_sla: Collection[str] | None
) -> Example | None:
    entries = reader.mapping(node, "an example", allowed=(*POST_FIELDS, "expect"), required=("text",))
    if entries is None or "text" not in entries:
        return None
    before = len(reader.problems)
    facts = _facts(entries, reader)
    expect = _expectation(entries.get("expect"), reader, known_sla)
    if len(reader.problems) > before or facts is None or expect is None:
        return None
    return Example(rule_id, reader.file, node.start_mark.line + 1, facts, expect)


def _facts(entries: dict[str, Node], reader: Reader) -> PostFacts | None:

    def count(key: str, default: int) -> int:
        return (reader.integer(entries[key], f"`{key}`") or 0) if key in entries else default

    def flag(key: str) -> bool:
        return bool(reader.boolean(entries[key], f"`{key}`")) if key in entries else False

    def text(key: str, default: str) -> str:
        return (reader.text(entries[key], f"`{key}`") or default) if key in entries else default

    at = DEFAULT_AT
    if "at" in entries:
        raw = reader.text(entries["at"], "`at`")
        try:
            at = datetime.fromisoformat(raw or "")
            if at.tzinfo is None:
                raise ValueError("no time zone")
        except ValueError:
            reader.error(
                entries["at"], f"`at` must be an ISO time with a zone, like {DEFAULT_AT.isoformat()}"
            )
    return PostFacts(
        text=text("text", ""),
        channel=text("channel", "x"),
        account=text("account", "@brand"),
        author_handle=text("author", "someone"),
        created_at=at.astimezone(UTC),
        author_followers=count("followers", 0),
        author_verified=flag("verified"),
        known_customer=flag("known_customer"),
        lang=text("lang", "") or None,
        thread=ThreadFacts(
            posts=count("thread_posts", 1),
            distinct_authors=count("distinct_authors", 1),
            replies_last_hour=count("replies_last_hour", 0),
        ),
        history=AuthorHistory(open_cases=count("open_cases", 0), cases_30d=count("cases_30d", 0)),
    )


def _expectation(node: Node | None, reader: Reader, known_sla: Collection[str] | None) -> Expectation | None:
    if node is None:
        return Expectation(fires=True)  # an example without `expect` says: this rule fires
    e = reader.mapping(node, "`expect`", allowed=EXPECT_FIELDS)
    if e is None:
        return None
    return Expectation(
        fires=reader.boolean(e["fires"], "`fires`") if "fires" in e else None,
        queue=parse_queue(e["queue"], reader, "`queue`") if "queue" in e else None,
        priority=parse_priority(e["priority"], reader, "`priority`") if "priority" in e else None,
        sla=parse_sla(e["sla"], reader, "`sla`", known_sla) if "sla" in e else None,
        tags=tuple(reader.texts(e["tags"], "`tags`") or ()) if "tags" in e else (),
        page=reader.boolean(e["page"], "`page`") if "page" in e else None,
        approval=reader.boolean(e["approval"], "`approval`") if "approval" in e else None,
        risk=parse_comparison(e["risk"], reader, "risk") if "risk" in e else None,
        matched=tuple(reader.texts(e["matched"], "`matched`") or ()) if "matched" in e else (),
    )
