"""The compiled rule set and the pure `evaluate(facts, ruleset) -> Decision`.

Combination, in evaluation order (`order:` ascending, then file order; files of a folder by name):
- queue and sla: the first matching rule that sets one wins;
- priority: the most urgent of the matching rules wins;
- tags: all matching rules' tags, in order, without repeats;
- risk: contributions are summed, the total clamped to 0..100;
- page / approval: set if any matching rule sets them;
- `stop: true` on a matching rule: the rules after it are skipped.
What no rule sets comes from `defaults:`.

`evaluate` returns, on the routing path, the Hits of the rules that matched (each says why); with
`explain=True` it returns a Hit for every rule, saying why it matched or did not (the `explain`
command): the routing path never builds the reasons of rules that did not match.

Speed: every phrase of every `words` condition is in one Aho-Corasick automaton (rules/index.py).
One pass over the post finds the phrases present; only rules that need one of those phrases, plus
the rules that can match without any word ("always" rules), are evaluated. The cheap "always"
rules are tested together in one generated function; the costly ones (sentiment, language) are
checked in their turn, so a `stop` before them spares their cost. Within a rule, conditions are
tried cheapest first (all/any sort by cost), so sentiment and language are computed only when a
candidate rule's other conditions already hold (rules/view.py). The routing path works from
per-rule tuples prepared once and reuses the Hit objects it has already built for a rule and reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.actions import RISK_MAX, RISK_MIN, Actions
from rules.compiler import Batch, Check, compile_batch, compile_check
from rules.facts import PostFacts
from rules.index import WordIndex
from rules.model import Defaults, Rule
from rules.outcome import Decision, Hit
from rules.text import normalize
from rules.view import Calendar, PostView

__all__ = ["Defaults", "Rule", "RuleSet", "compile_ruleset", "evaluate"]

_KNOWN_HITS = 64  # Hits kept per rule, by reason; reasons with numbers in them vary without end
_COSTLY = 5  # an "always" rule whose condition may need sentiment or language is not batched

# per rule: id, compiled check (None for a batched "always" rule: its batch already passed it),
# the condition's explain, its actions, its Hits by reason
_Plan = tuple[str, Check | None, Any, Actions, dict[str, Hit]]


@dataclass(frozen=True)
class RuleSet:
    version: str  # "sha256:<16 hex>" of the file contents
    source: Path
    rules: tuple[Rule, ...]  # in evaluation order
    defaults: Defaults
    calendar: Calendar = field(default_factory=Calendar)
    sla_policies_used: frozenset[str] = frozenset()
    _index: WordIndex | None = field(default=None, repr=False, compare=False)
    _always: frozenset[int] = field(default=frozenset(), repr=False, compare=False)
    _idle_hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)
    _always_batch: Batch | None = field(default=None, repr=False, compare=False)  # the cheap ones
    _always_costly: tuple[int, ...] = field(default=(), repr=False, compare=False)  # checked in turn
    _plans: tuple[_Plan, ...] = field(default=(), repr=False, compare=False)

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
    used = {r.then.sla for r in ordered if r.then.sla} | {defaults.sla}
    idle = tuple(Hit(r.id, False, "none of its words appear") for r in ordered)
    costly = tuple(i for i in sorted(always) if ordered[i].when.cost >= _COSTLY)
    batched = frozenset(always.difference(costly))
    plans: tuple[_Plan, ...] = tuple(
        (
            rule.id,
            None if index in batched else compile_check(rule.when),
            rule.when.explain,
            rule.then,
            {},
        )
        for index, rule in enumerate(ordered)
    )
    return RuleSet(
        version=version,
        source=source,
        rules=ordered,
        defaults=defaults,
        calendar=calendar,
        sla_policies_used=frozenset(used),
        _index=WordIndex(sorted(phrases), triggers) if phrases else None,
        _always=frozenset(always),
        _idle_hits=idle,
        _always_batch=compile_batch([(i, ordered[i].when) for i in sorted(batched)]) if batched else None,
        _always_costly=costly,
        _plans=plans,
    )


def evaluate(facts: PostFacts, ruleset: RuleSet, *, explain: bool = False) -> Decision:
    """Pure: the same facts and rule set always give the same decision (whatever `explain`)."""
    return _explained(facts, ruleset) if explain else _routed(facts, ruleset)


def _routed(facts: PostFacts, ruleset: RuleSet) -> Decision:
    text = normalize(facts.text)
    index = ruleset._index
    if index is None:
        found: set[str] = set()
        candidates: set[int] = set()
    else:
        found, candidates = index.scan(text)
    view = PostView(facts, text, found, ruleset.calendar)
    batch = ruleset._always_batch
    if batch is not None:
        candidates.update(batch(view, facts, found))
    candidates.update(ruleset._always_costly)
    plans = ruleset._plans
    queue = sla = priority = None
    tags: dict[str, None] = {}
    risk = 0.0
    page = approval = False
    matched: list[str] = []
    hits: list[Hit] = []
    for position in sorted(candidates):
        rule_id, check, reason, then, known = plans[position]
        if check is not None and not check(view, facts, found):
            continue
        because = reason(view)[1]
        hit = known.get(because)
        if hit is None:
            hit = Hit(rule_id, True, because)
            if len(known) < _KNOWN_HITS:
                known[because] = hit
        hits.append(hit)
        matched.append(rule_id)
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
            break  # the rules after it are not applied (explain names them as skipped)
    defaults = ruleset.defaults
    return Decision(  # positional, in field order: the routing path builds one per post
        queue or defaults.queue,
        priority or defaults.priority,
        sla or defaults.sla,
        ruleset.version,
        tuple(tags),
        page,
        approval,
        min(max(risk, RISK_MIN), RISK_MAX),
        tuple(matched),
        tuple(hits),
    )


def _explained(facts: PostFacts, ruleset: RuleSet) -> Decision:
    """Every candidate rule says why it matched or not (the `explain` command)."""
    text = normalize(facts.text)
    found, candidates = (set(), set()) if ruleset._index is None else ruleset._index.scan(text)
    view = PostView(facts, text, found, ruleset.calendar)
    rules = ruleset.rules
    hits = list(ruleset._idle_hits)
    candidates |= ruleset._always
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
        ok, because = rule.when.explain(view)
        hits[index] = Hit(rule.id, ok, because)
        if not ok:
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
    return _decision(ruleset, queue, priority, sla, tags, risk, page, approval, matched, tuple(hits))


def _decision(
    ruleset: RuleSet,
    queue: Any,
    priority: Any,
    sla: str | None,
    tags: dict[str, None],
    risk: float,
    page: bool,
    approval: bool,
    matched: list[str],
    hits: tuple[Hit, ...],
) -> Decision:
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
        hits=hits,
    )
