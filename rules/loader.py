"""Load a rule file or a folder of them: validated completely, or refused with every problem.

A rule set is never half-loaded: `load_ruleset` returns a RuleSet or raises RuleFileError.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import Node

from rules.actions import parse_actions, parse_priority, parse_queue, parse_sla
from rules.conditions.base import choice_list
from rules.conditions.clock import parse_hhmm
from rules.conditions.registry import parse_condition
from rules.engine import RuleSet, compile_ruleset
from rules.errors import Problem, RuleFileError
from rules.examples import Example, parse_example
from rules.model import Defaults, Rule
from rules.nodes import Reader, describe
from rules.view import WEEKDAYS, Calendar

TOP_FIELDS = ("version", "timezone", "business_hours", "defaults", "rules")
RULE_FIELDS = ("id", "description", "order", "enabled", "when", "then", "examples")
DEFAULT_FIELDS = ("queue", "priority", "sla")
HOURS_FIELDS = ("days", "opens", "closes")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_\-.]*$")


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    content: bytes


def read_sources(path: Path) -> list[Source]:
    """The file, or the folder's *.yaml / *.yml files sorted by name."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise RuleFileError([Problem(str(path), 1, 1, "no *.yaml rule files in this folder")])
    elif path.is_file():
        files = [path]
    else:
        raise RuleFileError([Problem(str(path), 1, 1, "no such rule file or folder")])
    return [Source(f, f.read_bytes()) for f in files]


def content_version(sources: list[Source]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        if len(sources) > 1:
            digest.update(source.path.name.encode() + b"\0")
        digest.update(source.content + b"\0")
    return "sha256:" + digest.hexdigest()[:16]


def load_ruleset(path: Path, *, known_sla_policies: Collection[str] | None = None) -> RuleSet:
    path = Path(path)
    return parse_sources(path, read_sources(path), known_sla_policies=known_sla_policies)


def parse_sources(
    path: Path, sources: list[Source], *, known_sla_policies: Collection[str] | None = None
) -> RuleSet:
    problems: list[Problem] = []
    rules: list[tuple[int, int, Rule]] = []
    settings: dict[str, tuple[str, Node]] = {}
    known = frozenset(known_sla_policies) if known_sla_policies is not None else None
    unparsed = False
    written = 0  # rules in the files, valid or not
    for file_index, source in enumerate(sources):
        reader = Reader(str(source.path))
        root = _compose(source, reader)
        unparsed = unparsed or root is None
        if root is not None:
            top = reader.mapping(root, "the rule file", allowed=TOP_FIELDS)
            for key, node in (top or {}).items():
                if key in ("timezone", "business_hours", "defaults"):
                    if key in settings:
                        reader.error(node, f"`{key}` is already set in {settings[key][0]}")
                    settings[key] = (reader.file, node)
            if top is not None and "version" in top:
                version = reader.integer(top["version"], "`version`")
                if version not in (None, 1):
                    reader.error(
                        top["version"], f"unsupported rule file version {version}; this engine reads 1"
                    )
            rule_nodes = reader.items(top["rules"], "`rules`") if top and "rules" in top else None
            written += len(rule_nodes or [])
            for position, item in enumerate(rule_nodes or []):
                rule = _rule(item, reader, known)
                if rule is not None:
                    rules.append((file_index, position, rule))
        problems += reader.problems
    file_problems = unparsed  # a file that did not parse may hold the missing sections
    defaults, calendar = _settings(settings, known, problems, str(sources[0].path), file_problems)
    seen: dict[str, Rule] = {}
    for _, _, rule in rules:
        if rule.id in seen:
            first = seen[rule.id]
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    rule.column,
                    f"duplicate rule id `{rule.id}` (first at {first.file}:{first.line})",
                )
            )
        else:
            seen[rule.id] = rule
    if not written and not file_problems:
        problems.append(Problem(str(path), 1, 1, "no rules: add a `rules:` list"))
    if problems:
        raise RuleFileError(sorted(problems, key=lambda p: (p.file, p.line, p.column)))
    assert defaults is not None
    ordered = [r for _, _, r in sorted(rules, key=lambda t: (t[2].order, t[0], t[1]))]
    return compile_ruleset(
        version=content_version(sources), source=path, rules=ordered, defaults=defaults, calendar=calendar
    )


def _compose(source: Source, reader: Reader) -> Node | None:
    try:
        text = source.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        reader.problems.append(Problem(reader.file, 1, 1, f"not UTF-8 text: {exc}"))
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        reader.problems.append(Problem(reader.file, line, column, f"YAML syntax error: {what}"))
        return None
    except yaml.YAMLError as exc:
        reader.problems.append(Problem(reader.file, 1, 1, f"YAML error: {exc}"))
        return None
    except RecursionError:  # a refusal, not a crash of `rules check` or the reloader
        reader.problems.append(Problem(reader.file, 1, 1, "YAML nested too deeply"))
        return None
    if root is None:
        reader.problems.append(Problem(reader.file, 1, 1, "the file is empty"))
    return root


def _rule(node: Node, reader: Reader, known_sla: frozenset[str] | None) -> Rule | None:
    entries = reader.mapping(node, "a rule", allowed=RULE_FIELDS, required=("id", "when", "then"))
    if entries is None:
        return None
    before = len(reader.problems)
    rule_id = reader.text(entries["id"], "`id`") if "id" in entries else None
    if rule_id is not None and not _RULE_ID.match(rule_id):
        reader.error(entries["id"], f"rule id `{rule_id}`: use lower-case letters, digits, '-', '_' or '.'")
    description = reader.text(entries["description"], "`description`") if "description" in entries else ""
    order = reader.integer(entries["order"], "`order`") if "order" in entries else 0
    enabled = reader.boolean(entries["enabled"], "`enabled`") if "enabled" in entries else True
    when = parse_condition(entries["when"], reader) if "when" in entries else None
    then = parse_actions(entries["then"], reader, known_sla) if "then" in entries else None
    examples: list[Example] = []
    if "examples" in entries:
        for item in reader.items(entries["examples"], "`examples`") or []:
            example = parse_example(item, reader, rule_id or "?", known_sla)
            if example is not None:
                examples.append(example)
    if len(reader.problems) > before or rule_id is None or when is None or then is None or not enabled:
        return None
    return Rule(
        id=rule_id,
        when=when,
        then=then,
        description=description or "",
        order=order or 0,
        file=reader.file,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        examples=tuple(examples),
    )


def _settings(
    settings: dict[str, tuple[str, Node]],
    known_sla: frozenset[str] | None,
    problems: list[Problem],
    first_file: str,
    file_problems: bool,
) -> tuple[Defaults | None, Calendar]:
    defaults = None
    if "defaults" not in settings and not file_problems:
        message = "no `defaults:` section (queue, priority and sla of posts no rule decides)"
        problems.append(Problem(first_file, 1, 1, message))
    if "defaults" in settings:
        file, node = settings["defaults"]
        reader = Reader(file)
        entries = reader.mapping(node, "`defaults`", allowed=DEFAULT_FIELDS, required=DEFAULT_FIELDS)
        if entries is not None and set(entries) == set(DEFAULT_FIELDS):
            queue = parse_queue(entries["queue"], reader, "`defaults.queue`")
            priority = parse_priority(entries["priority"], reader, "`defaults.priority`")
            sla = parse_sla(entries["sla"], reader, "`defaults.sla`", known_sla)
            if queue and priority and sla:
                defaults = Defaults(queue=queue, priority=priority, sla=sla)
        problems += reader.problems
    tz = ZoneInfo("UTC")
    if "timezone" in settings:
        file, node = settings["timezone"]
        reader = Reader(file)
        name = reader.text(node, "`timezone`")
        try:
            tz = ZoneInfo(name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            reader.error(node, f"unknown time zone {describe(node)} (use a name like Europe/Paris)")
        problems += reader.problems
    calendar = Calendar(tz=tz)
    if "business_hours" in settings:
        file, node = settings["business_hours"]
        reader = Reader(file)
        entries = reader.mapping(node, "`business_hours`", allowed=HOURS_FIELDS) or {}
        days = (
            choice_list(entries["days"], reader, "weekday", {d: i for i, d in enumerate(WEEKDAYS)})
            if "days" in entries
            else None
        )
        opens = parse_hhmm(entries["opens"], reader, "`business_hours.opens`") if "opens" in entries else None
        closes = (
            parse_hhmm(entries["closes"], reader, "`business_hours.closes`") if "closes" in entries else None
        )
        if opens and closes and opens >= closes:
            reader.error(node, "`business_hours`: `opens` must be before `closes`")
        calendar = Calendar(
            tz=tz,
            business_days=frozenset(days) if days else calendar.business_days,
            opens=opens or calendar.opens,
            closes=closes or calendar.closes,
        )
        problems += reader.problems
    return defaults, calendar
