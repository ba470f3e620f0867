"""What a matching rule does (`then:`), and how the actions of several rules combine."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from yaml.nodes import Node

from rules.nodes import Reader, describe, did_you_mean
from rules.outcome import Priority, QueueName

RISK_MIN, RISK_MAX = 0.0, 100.0


@dataclass(frozen=True, slots=True)
class ActionDoc:
    key: str
    summary: str
    example: str


ACTIONS: dict[str, ActionDoc] = {
    a.key: a
    for a in (
        ActionDoc(
            "queue",
            "Queue: forum, customer_service or pr. The first matching rule that sets it wins.",
            "queue: pr",
        ),
        ActionDoc(
            "priority",
            "urgent, high, normal or low. The most urgent of all matching rules wins.",
            "priority: high",
        ),
        ActionDoc(
            "sla",
            "SLA policy name (e.g. urgent, standard, relaxed). The first rule that sets it wins.",
            "sla: urgent",
        ),
        ActionDoc("tags", "Tags added to the case; tags of all matching rules are kept.", "tags: [billing]"),
        ActionDoc(
            "risk",
            f"Risk contribution; contributions add up, the total is clamped to {RISK_MIN:g}..{RISK_MAX:g}.",
            "risk: 30",
        ),
        ActionDoc("page", "`pr`: page the PR on-call now.", "page: pr"),
        ActionDoc(
            "approval", "true: a reply needs a second person's approval before it is sent.", "approval: true"
        ),
        ActionDoc("stop", "true: rules after this one (in evaluation order) are not applied.", "stop: true"),
    )
}

QUEUES = {q.value: q for q in QueueName}
PRIORITIES = {p.label: p for p in Priority}
PAGE_TARGETS = ("pr",)


@dataclass(frozen=True, slots=True)
class Actions:
    queue: QueueName | None = None
    priority: Priority | None = None
    sla: str | None = None
    tags: tuple[str, ...] = ()
    risk: float = 0.0
    page_pr: bool = False
    approval: bool = False
    stop: bool = False


def parse_queue(node: Node, reader: Reader, what: str) -> QueueName | None:
    name = reader.text(node, what)
    if name is not None and name not in QUEUES:
        reader.error(
            node, f"unknown queue {describe(node)}{did_you_mean(name, QUEUES)} (queues: {', '.join(QUEUES)})"
        )
        return None
    return None if name is None else QUEUES[name]


def parse_priority(node: Node, reader: Reader, what: str) -> Priority | None:
    name = reader.text(node, what)
    if name is not None and name.lower() not in PRIORITIES:
        reader.error(
            node,
            f"unknown priority {describe(node)}{did_you_mean(name.lower(), PRIORITIES)} "
            f"(priorities: {', '.join(PRIORITIES)})",
        )
        return None
    return None if name is None else PRIORITIES[name.lower()]


def parse_sla(node: Node, reader: Reader, what: str, known: Collection[str] | None) -> str | None:
    name = reader.text(node, what)
    if name is not None and known is not None and name not in known:
        reader.error(
            node,
            f"unknown SLA policy {describe(node)}{did_you_mean(name, known)} "
            f"(policies: {', '.join(sorted(known))})",
        )
        return None
    return name


def parse_actions(node: Node, reader: Reader, known_sla: Collection[str] | None) -> Actions | None:
    entries = reader.mapping(node, "`then`", allowed=ACTIONS)
    if entries is None:
        return None
    before = len(reader.problems)
    queue = parse_queue(entries["queue"], reader, "`queue`") if "queue" in entries else None
    priority = parse_priority(entries["priority"], reader, "`priority`") if "priority" in entries else None
    sla = parse_sla(entries["sla"], reader, "`sla`", known_sla) if "sla" in entries else None
    tags = reader.texts(entries["tags"], "`tags`") if "tags" in entries else []
    risk = reader.number(entries["risk"], "`risk`") if "risk" in entries else 0.0
    page = reader.text(entries["page"], "`page`") if "page" in entries else None
    if page is not None and page not in PAGE_TARGETS:
        reader.error(entries["page"], f"`page` can only be `pr`, got {describe(entries['page'])}")
    approval = reader.boolean(entries["approval"], "`approval`") if "approval" in entries else False
    stop = reader.boolean(entries["stop"], "`stop`") if "stop" in entries else False
    if not entries and not reader.problems[before:]:
        reader.error(node, f"`then` does nothing; use some of: {', '.join(ACTIONS)}")
    if len(reader.problems) > before:
        return None
    return Actions(
        queue=queue,
        priority=priority,
        sla=sla,
        tags=tuple(tags or ()),
        risk=risk or 0.0,
        page_pr=page == "pr",
        approval=bool(approval),
        stop=bool(stop),
    )
