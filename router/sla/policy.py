"""SLA policies, calendars, escalation ladders and queue leads, loaded from YAML (rules/sla.yaml).

A file is validated completely before anything is returned: every problem is reported with
file:line:column, and a bad file raises SlaConfigError instead of half-loading.

Durations ("15m", "1h", "2d") are business time on the policy's calendar; a day is 24 hours of
that clock (1440 business minutes), not a working day. A policy's `version` is a hash of its
definition, including its calendar's, as `name:hash`.

`default_policy` names the policy used for a case whose policy is unknown here; without it, the
first policy in the file is the default.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from router.sla import paging_config, reading
from router.sla.calendar import Calendar
from router.sla.paging_config import PagingPolicy
from rules.errors import Problem
from rules.nodes import Reader, did_you_mean
from rules.outcome import QueueName
from workers.paging.oncall import Rotation

TOP_LEVEL = (
    "version",
    "default_policy",
    "calendars",
    "policies",
    "queue_policies",
    "escalation",
    "leads",
    "oncall",
    "paging",
)
POLICY_FIELDS = ("calendar", "first_response", "next_response", "resolution", "warn_at")
STAGE_FIELDS = ("name", "at", "do")
QUEUES = tuple(q.value for q in QueueName)
DEFAULT_WARN_AT = 0.75
_STAGE_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")  # part of RQ job ids: sla-{case}-{clock}-{stage}
T = TypeVar("T")


class Action(StrEnum):
    """What an escalation stage may do; the worker that runs ladders implements each."""

    NOTIFY_ASSIGNEE = "notify_assignee"
    RAISE_PRIORITY = "raise_priority"
    REASSIGN_TO_LEAD = "reassign_to_lead"
    PAGE_MANAGER = "page_manager"
    PAGE_PR = "page_pr"


class SlaConfigError(Exception):
    """An SLA file that cannot be loaded; every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    calendar: str
    first_response: float  # business minutes
    next_response: float
    resolution: float | None  # None: no resolution promise
    warn_at: float  # fraction of the allowed time at which to warn
    version: str


@dataclass(frozen=True)
class Offset:
    """When a stage fires, relative to the due time: a share of the allowed time or a duration."""

    text: str
    percent: float | None = None  # -25.0 for "-25%"
    minutes: float | None = None  # 15.0 for "+15m"

    def business_minutes(self, allowed: float) -> float:
        """Business minutes from the clock's start: "-25%" of 60 is 45, "+15m" of 60 is 75."""
        if self.percent is not None:
            return max(0.0, allowed * (1 + self.percent / 100))
        return max(0.0, allowed + (self.minutes or 0.0))


@dataclass(frozen=True)
class Stage:
    name: str
    at: Offset
    do: tuple[Action, ...]


@dataclass(frozen=True)
class SlaConfig:
    source: str
    calendars: Mapping[str, Calendar]
    policies: Mapping[str, SlaPolicy]
    ladders: Mapping[str, tuple[Stage, ...]]
    leads: Mapping[str, str]
    default_policy: str | None
    queue_policies: Mapping[str, str] = field(default_factory=dict)
    rotations: Mapping[str, Rotation] = field(default_factory=dict)
    paging: PagingPolicy = field(default_factory=PagingPolicy)

    @property
    def policy_names(self) -> tuple[str, ...]:
        return tuple(self.policies)

    def policy(self, name: str) -> SlaPolicy:
        try:
            return self.policies[name]
        except KeyError:
            raise KeyError(f"unknown SLA policy `{name}`{did_you_mean(name, self.policies)}") from None

    def policy_or_default(self, name: str | None) -> SlaPolicy | None:
        """The named policy, else the default policy (None when the file has no policies)."""
        found = self.policies.get(name or "")
        if found is None and self.default_policy is not None:
            return self.policies[self.default_policy]
        return found

    def calendar(self, name: str) -> Calendar:
        try:
            return self.calendars[name]
        except KeyError:
            raise KeyError(f"unknown calendar `{name}`{did_you_mean(name, self.calendars)}") from None

    def ladder(self, queue: str) -> tuple[Stage, ...]:
        """The queue's escalation stages in file order; empty when it has none."""
        return self.ladders.get(queue, ())

    def lead(self, queue: str) -> str | None:
        return self.leads.get(queue)

    def rotation(self, name: str | None) -> Rotation | None:
        return self.rotations.get(name) if name else None

    def policy_for_queue(self, queue: str) -> str | None:
        """The policy a case runs under once handed to `queue` (None: it keeps its own)."""
        return self.queue_policies.get(queue)


def load_sla_config(path: Path | str) -> SlaConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SlaConfigError([Problem(str(path), 1, 1, f"cannot read the SLA file: {exc}")]) from None
    return parse_sla_config(text, str(path))


def parse_sla_config(text: str, file: str = "<sla>") -> SlaConfig:
    reader = Reader(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SlaConfigError([Problem(file, line, column, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:  # e.g. a control character (ReaderError carries no mark)
        raise SlaConfigError([Problem(file, 1, 1, f"YAML error: {exc}")]) from None
    except RecursionError:  # a refusal, not a crash
        raise SlaConfigError([Problem(file, 1, 1, "YAML nested too deeply")]) from None
    if root is None:
        raise SlaConfigError([Problem(file, 1, 1, "the SLA file is empty")])
    config = _config(reader, root)
    if reader.problems or config is None:
        raise SlaConfigError(reader.problems or [Problem(file, 1, 1, "the SLA file could not be read")])
    return config


def _config(reader: Reader, root: Node) -> SlaConfig | None:
    entries = reader.mapping(root, "the SLA file", allowed=TOP_LEVEL)
    if entries is None:
        return None
    if "version" in entries and reader.integer(entries["version"], "`version`") not in (None, 1):
        reader.error(entries["version"], "`version` must be 1")
    calendars = _named(reader, entries.get("calendars"), "`calendars`", reading.calendar)
    cal_nodes = _keys(entries.get("calendars"))
    policies = _named(
        reader,
        entries.get("policies"),
        "`policies`",
        lambda r, name, node: _policy(r, name, node, calendars, cal_nodes),
    )
    default = None
    if "default_policy" in entries:
        default = reader.text(entries["default_policy"], "`default_policy`")
        names = _keys(entries.get("policies"))  # a broken policy is reported where it is defined
        if default is not None and default not in names:
            reader.error(
                entries["default_policy"],
                f"unknown policy `{default}` in `default_policy`{did_you_mean(default, names)}",
            )
    elif policies:
        default = next(iter(policies))
    ladders = _named(reader, entries.get("escalation"), "`escalation`", _ladder, keys=QUEUES)
    leads = _named(reader, entries.get("leads"), "`leads`", lambda r, q, node: r.text(node, f"lead of {q}"))
    policy_names = _keys(entries.get("policies"))

    def queue_policy(r: Reader, queue: str, node: Node) -> str | None:
        name = r.text(node, f"policy of {queue}")
        if name is not None and name not in policy_names:
            r.error(node, f"unknown policy `{name}` for queue {queue}{did_you_mean(name, policy_names)}")
            return None
        return name

    queue_policies = _named(
        reader, entries.get("queue_policies"), "`queue_policies`", queue_policy, keys=QUEUES
    )
    rotations = _named(reader, entries.get("oncall"), "`oncall`", paging_config.rotation)
    paging = paging_config.paging_policy(reader, entries.get("paging"), _keys(entries.get("oncall")))
    return SlaConfig(
        reader.file, calendars, policies, ladders, leads, default, queue_policies, rotations, paging
    )


def _keys(node: Node | None) -> dict[str, Node]:
    """Names in a mapping, even those whose definition is broken (so references to them are not
    reported a second time)."""
    if not isinstance(node, MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, ScalarNode)}


def _named(
    reader: Reader,
    node: Node | None,
    what: str,
    parse: Callable[[Reader, str, Node], T | None],
    keys: Collection[str] | None = None,
) -> dict[str, T]:
    """A mapping of name -> parsed value; names outside `keys` (when given) are reported."""
    if node is None:
        return {}
    entries = reader.mapping(node, what, allowed=keys if keys is not None else _AnyName())
    out: dict[str, T] = {}
    for name, value_node in (entries or {}).items():
        parsed = parse(reader, name, value_node)
        if parsed is not None:
            out[name] = parsed
    return out


class _AnyName(tuple[str, ...]):
    """Every name is allowed (a calendar or policy name is the user's choice)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and bool(item)


def _policy(
    reader: Reader,
    name: str,
    node: Node,
    calendars: Mapping[str, Calendar],
    cal_nodes: Mapping[str, Node],
) -> SlaPolicy | None:
    what = f"policy `{name}`"
    entries = reader.mapping(node, what, allowed=POLICY_FIELDS, required=("calendar", "first_response"))
    if entries is None or "calendar" not in entries or "first_response" not in entries:
        return None
    before = len(reader.problems)
    calendar = reader.text(entries["calendar"], f"{what}: `calendar`")
    if calendar is not None and calendar not in cal_nodes:
        reader.error(
            entries["calendar"], f"{what}: unknown calendar `{calendar}`{did_you_mean(calendar, cal_nodes)}"
        )
    first = reading.duration(reader, entries["first_response"], f"{what}: `first_response`")
    following = first
    if "next_response" in entries:
        following = reading.duration(reader, entries["next_response"], f"{what}: `next_response`")
    resolution = None
    if "resolution" in entries:
        resolution = reading.duration(reader, entries["resolution"], f"{what}: `resolution`")
    warn_at = DEFAULT_WARN_AT
    if "warn_at" in entries:
        warn_at = reading.fraction(reader, entries["warn_at"], f"{what}: `warn_at`") or DEFAULT_WARN_AT
    if len(reader.problems) > before or calendar is None or first is None or following is None:
        return None
    if calendar not in calendars:
        return None  # the calendar itself is broken; its problem is reported already
    definition = {
        "calendar": _calendar_definition(calendars[calendar]),
        "first_response": first,
        "next_response": following,
        "resolution": resolution,
        "warn_at": warn_at,
    }
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:12]
    return SlaPolicy(name, calendar, first, following, resolution, warn_at, f"{name}:{digest}")


def _calendar_definition(calendar: Calendar) -> dict[str, object]:
    return {
        "timezone": calendar.timezone.key,
        "week": [list(map(list, day)) for day in calendar.week],
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
    }


def _ladder(reader: Reader, queue: str, node: Node) -> tuple[Stage, ...] | None:
    items = reader.items(node, f"escalation of `{queue}`")
    if items is None:
        return None
    stages: list[Stage] = []
    for number, item in enumerate(items, start=1):
        what = f"stage {number} of the `{queue}` escalation"
        entries = reader.mapping(item, what, allowed=STAGE_FIELDS, required=("at", "do"))
        if entries is None or "at" not in entries or "do" not in entries:
            continue
        at = reading.offset(reader, entries["at"], f"{what}: `at`")
        actions = reader.texts(entries["do"], f"{what}: `do`") or []
        known = [a.value for a in Action]
        do_node = entries["do"]
        action_nodes = do_node.value if isinstance(do_node, SequenceNode) else [do_node]
        for action, action_node in zip(actions, action_nodes, strict=False):
            if action not in known:
                reader.error(action_node, f"{what}: unknown action `{action}`{did_you_mean(action, known)}")
        name = reader.text(entries["name"], f"{what}: `name`") if "name" in entries else None
        if name is not None and not _STAGE_NAME.match(name):
            reader.error(entries["name"], f"{what}: a stage name is lower-case letters, digits, - and _")
            name = None
        if (name or str(number)) in {s.name for s in stages}:
            reader.error(entries.get("name", item), f"{what}: the name `{name}` is used twice in this ladder")
            continue
        if at is not None and actions and all(a in known for a in actions):
            percent, minutes = at
            text = str(getattr(entries["at"], "value", "")).strip()
            offset = Offset(text, percent, minutes)
            stages.append(Stage(name or str(number), offset, tuple(map(Action, actions))))
    return tuple(stages)
