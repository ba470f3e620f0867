"""rules/default.yaml routes the posts the issue names where its comments say."""

from __future__ import annotations

import pytest

from rules.cli import PACKAGED_RULES
from rules.engine import evaluate
from rules.loader import load_ruleset
from rules.outcome import Priority, QueueName
from tests.rules.conftest import SLA, post


@pytest.fixture(scope="module")
def default():  # type: ignore[no-untyped-def]
    return load_ruleset(PACKAGED_RULES, known_sla_policies=SLA)


def test_uses_only_the_three_sla_policies(default) -> None:
    assert default.sla_policies_used == SLA


def test_every_rule_has_examples_and_they_pass(default) -> None:
    for rule in default.rules:
        assert rule.examples, rule.id
        for example in rule.examples:
            assert example.failures(evaluate(example.facts, default)) == [], (rule.id, example.line)


def test_legal_threat_goes_to_pr_and_pages(default) -> None:
    d = evaluate(post("If this isn't fixed by Friday my solicitor will be in touch"), default)
    assert (d.queue, d.priority, d.sla_policy, d.page_pr) == (QueueName.PR, Priority.URGENT, "urgent", True)


def test_safety_issue_goes_to_pr(default) -> None:
    d = evaluate(post("The charger overheated and burnt the carpet, this is dangerous"), default)
    assert (d.queue, d.priority, d.page_pr) == (QueueName.PR, Priority.URGENT, True)
    assert "safety" in d.tags


def test_influencer_complaint_goes_to_pr_with_high_priority(default) -> None:
    d = evaluate(
        post(
            "Three weeks and no order. Honestly disappointed.", author_followers=250_000, author_verified=True
        ),
        default,
    )
    assert (d.queue, d.priority, d.sla_policy) == (QueueName.PR, Priority.HIGH, "urgent")
    assert "influencer" in d.tags and d.needs_approval


def test_question_goes_to_customer_service(default) -> None:
    d = evaluate(post("How do I reset my password?"), default)
    assert (d.queue, d.priority, d.sla_policy) == (QueueName.CUSTOMER_SERVICE, Priority.NORMAL, "standard")


def test_praise_goes_to_the_forum_low(default) -> None:
    d = evaluate(post("Just want to say I love the new app, brilliant work 👏"), default)
    assert (d.queue, d.priority, d.sla_policy) == (QueueName.FORUM, Priority.LOW, "relaxed")
    assert "praise" in d.tags


def test_spam_stops_evaluation(default) -> None:
    d = evaluate(post("crypto giveaway, where is my order?"), default)
    assert d.queue == QueueName.FORUM and d.priority == Priority.LOW and "question" not in d.tags
