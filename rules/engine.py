"""The compiled rule set and the pure `evaluate(facts, ruleset) -> Decision`.

Combination, in evaluation order (`order:` ascending, then file order; files of a folder by name):
- queue and sla: the first matching rule that sets one wins;
- priority: the most urgent of the matching rules wins;
- tags: all matching rules' tags, in order, without repeats;
- risk: contributions are summed, the total clamped to 0..100;
- page / approval: set if any matching rule sets them;
- `stop: true` on a matching rule: the rules after it are skipped.
What no rule sets comes from `defaults:`.

`evaluate` returns a Hit for every rule. A matched rule's Hit always says why; with
`explain=True` every evaluated rule's Hit says why it did not match as well (the `explain` command),
otherwise that costs nothing on the routing path and the Hit says only that it did not match.

Speed: every phrase of every `words` condition is in one Aho-Corasick automaton. One pass over
the post finds the phrases present; only rules that need one of those phrases, plus the rules
that can match without any word ("always" rules), are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from rules.actions import RISK_MAX, RISK_MIN
from rules.compiler import Batch, Check, compile_batch, compile_check
from rules.facts import PostFacts
from rules.model import Defaults, Rule
from rules.outcome import Decision, Hit
from rules.text import normalize
from rules.view import Calendar, PostView

__all__ = ["Defaults", "Rule", "RuleSet", "compile_ruleset", "evaluate"]


@dataclass(frozen=True)
class RuleSet:
    version: str  # "sha256:<16 hex>" of the file contents
    source: Path
    rules: tuple[Rule, ...]  # in evaluation order
    defaults: Defaults
    calendar: Calendar = field(default_factory=Calendar)
    sla_policies_used: frozenset[str] = frozenset()
    _automaton: Any = field(default=None, repr=False, compare=False)
    _always: frozenset[int] = field(default=frozenset(), repr=False, compare=False)
    _idle_hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)
    _unmatched_hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)
    _checks: tuple[Check, ...] = field(default=(), repr=False, compare=False)
    _always_batch: Batch | None = field(default=None, repr=False, compare=False)
    _base_hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)  # idle, or unmatched if always

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def always_candidates(self) -> tuple[str, ...]:
        """Ids of the rules evaluated for every post (no word condition narrows them)."""
        return tuple(self.rules[i].id for i in sorted(self._always))


def compile_ruleset(
    *, version: str, source: Path, rules: Iterable[Rule], defaults: Defaults, calendar: Calendar
) -> RuleSet:
    ordered = tuple(rules)
    triggers: dict[str, list[int]] = {}
    phrases: set[str] = set()
    always = set()
    for index, rule in enumerate(ordered):
        phrases |= rule.when.all_phrases()
        needed = rule.when.trigger_phrases()
        if needed is None:
            always.add(index)
        else:
            for phrase in needed:
                triggers.setdefault(phrase, []).append(index)
    automaton = None
    if phrases:
        automaton = ahocorasick.Automaton()
        for phrase in phrases:
            # (phrase, length, rules it triggers, whether each end must sit on a word boundary)
            value = (
                phrase,
                len(phrase),
                tuple(triggers.get(phrase, ())),
                phrase[0].isalnum(),
                phrase[-1].isalnum(),
            )
            automaton.add_word(phrase, value)
        automaton.make_automaton()
    used = {r.then.sla for r in ordered if r.then.sla} | {defaults.sla}
    idle = tuple(Hit(r.id, False, "none of its words appear") for r in ordered)
    unmatched = tuple(Hit(r.id, False, "did not match (explain tells why)") for r in ordered)
    return RuleSet(
        version=version,
        source=source,
        rules=ordered,
        defaults=defaults,
        calendar=calendar,
        sla_policies_used=frozenset(used),
        _automaton=automaton,
        _always=frozenset(always),
        _idle_hits=idle,
        _unmatched_hits=unmatched,
        _checks=tuple(compile_check(r.when) for r in ordered),
        _always_batch=compile_batch([(i, ordered[i].when) for i in sorted(always)]),
        _base_hits=tuple(unmatched[i] if i in always else idle[i] for i in range(len(ordered))),
    )


def _scan(text: str, ruleset: RuleSet) -> tuple[set[str], set[int]]:
    """The rule set's phrases present in the normalized text as whole words, and the rules they
    make candidates."""
    found: set[str] = set()
    triggered: set[int] = set()
    if ruleset._automaton is None or not text:
        return found, triggered
    last = len(text) - 1
    for end, (phrase, length, rule_indices, bound_start, bound_end) in ruleset._automaton.iter(text):
        # whole words only: an alphanumeric end of the phrase must not touch another letter or digit
        start = end - length + 1
        if bound_start and start and text[start - 1].isalnum():
            continue
        if bound_end and end < last and text[end + 1].isalnum():
            continue
        found.add(phrase)
        triggered.update(rule_indices)
    return found, triggered


def evaluate(facts: PostFacts, ruleset: RuleSet, *, explain: bool = False) -> Decision:
    """Pure: the same facts and rule set always give the same decision (whatever `explain`)."""
    text = normalize(facts.text)
    found, candidates = _scan(text, ruleset)
    view = PostView(facts, text, found, ruleset.calendar)
    rules = ruleset.rules
    if explain:
        hits = list(ruleset._idle_hits)
        candidates |= ruleset._always
        passed_always: list[int] = []
    else:
        # the "always" rules are tested in one call; only those that pass join the loop
        hits = list(ruleset._base_hits)
        passed_always = ruleset._always_batch(view, facts, found) if ruleset._always else []
        candidates.update(passed_always)
    checks = ruleset._checks
    always = ruleset._always
    queue = sla = None
    priority = None
    tags: dict[str, None] = {}
    risk = 0.0
    page = approval = False
    matched: list[str] = []
    stopped_by = ""
    for index in sorted(candidates):
        rule = rules[index]
        if stopped_by:
            hits[index] = Hit(rule.id, False, f"skipped: `{stopped_by}` stopped evaluation")
            continue
        if explain:
            ok, because = rule.when.explain(view)
            hits[index] = Hit(rule.id, ok, because)
            if not ok:
                continue
        elif index in always or checks[index](view, facts, found):
            hits[index] = Hit(rule.id, True, rule.when.explain(view)[1])
        else:
            hits[index] = ruleset._unmatched_hits[index]
            continue
        then = rule.then
        matched.append(rule.id)
        if queue is None:
            queue = then.queue
        if sla is None:
            sla = then.sla
        if then.priority is not None and (priority is None or then.priority < priority):
            priority = then.priority
        for tag in then.tags:
            tags[tag] = None
        risk += then.risk
        page = page or then.page_pr
        approval = approval or then.approval
        if then.stop:
            stopped_by = rule.id
    defaults = ruleset.defaults
    return Decision(
        queue=queue or defaults.queue,
        priority=priority or defaults.priority,
        sla_policy=sla or defaults.sla,
        ruleset_version=ruleset.version,
        tags=tuple(tags),
        page_pr=page,
        needs_approval=approval,
        risk=min(max(risk, RISK_MIN), RISK_MAX),
        matched=tuple(matched),
        hits=tuple(hits),
    )
