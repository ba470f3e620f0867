"""What a rule change would do: replay posts through the current and the new rule set and count
what moves (queues, priorities, SLA policies, paging), which rules cause it, with examples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rules.engine import RuleSet, evaluate
from rules.facts import PostFacts
from rules.outcome import Decision


@dataclass(frozen=True, slots=True)
class ReplayPost:
    key: str  # how a person finds the post again, e.g. "x:1790012345"
    facts: PostFacts


@dataclass(frozen=True, slots=True)
class Sample:
    key: str
    text: str
    before: dict[str, Any]
    after: dict[str, Any]
    causes: tuple[str, ...]


@dataclass
class BacktestReport:
    current_version: str
    new_version: str
    posts: int = 0
    changed: int = 0
    queue_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    priority_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    sla_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    paging: Counter[str] = field(default_factory=Counter)  # "starts" / "stops"
    rules_started: Counter[str] = field(default_factory=Counter)  # fires with the new set only
    rules_stopped: Counter[str] = field(default_factory=Counter)  # fires with the current set only
    rules_changed: Counter[str] = field(default_factory=Counter)  # fires in both, actions differ
    queues_before: Counter[str] = field(default_factory=Counter)
    queues_after: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def moves(counter: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "posts": n} for (a, b), n in counter.most_common()]

        return {
            "current_version": self.current_version,
            "new_version": self.new_version,
            "posts": self.posts,
            "changed": self.changed,
            "queues": {"before": dict(self.queues_before), "after": dict(self.queues_after)},
            "queue_moves": moves(self.queue_moves),
            "priority_moves": moves(self.priority_moves),
            "sla_moves": moves(self.sla_moves),
            "paging": dict(self.paging),
            "rules": {
                "started_firing": dict(self.rules_started.most_common()),
                "stopped_firing": dict(self.rules_stopped.most_common()),
                "actions_changed": dict(self.rules_changed.most_common()),
            },
            "samples": [
                {
                    "post": s.key,
                    "text": s.text,
                    "before": s.before,
                    "after": s.after,
                    "causes": list(s.causes),
                }
                for s in self.samples
            ],
        }


def _summary(d: Decision) -> dict[str, Any]:
    return {
        "queue": d.queue.value,
        "priority": d.priority.label,
        "sla_policy": d.sla_policy,
        "page": d.page_pr,
        "tags": list(d.tags),
        "matched": list(d.matched),
    }


def _differs(a: Decision, b: Decision) -> bool:
    return (a.queue, a.priority, a.sla_policy, a.page_pr, a.needs_approval, set(a.tags)) != (
        b.queue,
        b.priority,
        b.sla_policy,
        b.page_pr,
        b.needs_approval,
        set(b.tags),
    )


def backtest(
    posts: Iterable[ReplayPost],
    current: RuleSet,
    new: RuleSet,
    *,
    sample_size: int = 20,
    progress: Callable[[int], None] | None = None,
) -> BacktestReport:
    """Pure: decides every post with both rule sets. Samples favour variety: the first posts of
    each distinct (queue, priority) move come first."""
    report = BacktestReport(current.version, new.version)
    edited = {
        r.id
        for r in new.rules
        if (old := current.rule(r.id)) is not None and (old.then != r.then or old.order != r.order)
    }
    seen_moves: set[tuple[str, str, str, str]] = set()
    extra: list[Sample] = []
    for replay in posts:
        before, after = evaluate(replay.facts, current), evaluate(replay.facts, new)
        report.posts += 1
        report.queues_before[before.queue.value] += 1
        report.queues_after[after.queue.value] += 1
        if progress is not None:
            progress(report.posts)
        if not _differs(before, after):
            continue
        report.changed += 1
        if before.queue != after.queue:
            report.queue_moves[(before.queue.value, after.queue.value)] += 1
        if before.priority != after.priority:
            report.priority_moves[(before.priority.label, after.priority.label)] += 1
        if before.sla_policy != after.sla_policy:
            report.sla_moves[(before.sla_policy, after.sla_policy)] += 1
        if before.page_pr != after.page_pr:
            report.paging["starts" if after.page_pr else "stops"] += 1
        started = [r for r in after.matched if r not in before.matched]
        stopped = [r for r in before.matched if r not in after.matched]
        changed = [r for r in after.matched if r in before.matched and r in edited]
        report.rules_started.update(started)
        report.rules_stopped.update(stopped)
        report.rules_changed.update(changed)
        sample = Sample(
            key=replay.key,
            text=replay.facts.text[:280],
            before=_summary(before),
            after=_summary(after),
            causes=tuple(
                [f"+{r}" for r in started] + [f"-{r}" for r in stopped] + [f"~{r}" for r in changed]
            ),
        )
        move = (before.queue.value, after.queue.value, before.priority.label, after.priority.label)
        if move not in seen_moves and len(report.samples) < sample_size:
            seen_moves.add(move)
            report.samples.append(sample)
        elif len(extra) < sample_size:
            extra.append(sample)
    report.samples += extra[: max(0, sample_size - len(report.samples))]
    return report
