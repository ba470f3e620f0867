"""How matching rules combine, and what a decision says about every rule."""

from __future__ import annotations

from rules.engine import evaluate
from rules.outcome import Priority, QueueName
from tests.rules.conftest import post

RULES = """\
rules:
  - id: legal
    when: {words: [lawyer]}
    then: {queue: pr, priority: urgent, sla: urgent, tags: [legal], risk: 60, page: pr, approval: true}
  - id: refund
    when: {words: [refund]}
    then: {queue: customer_service, priority: normal, sla: standard, tags: [refund], risk: 50}
  - id: vip
    when: {followers: {at_least: 10000}}
    then: {priority: high, tags: [vip, refund]}
  - id: spam
    when: {words: [giveaway]}
    then: {queue: forum, priority: low, tags: [spam], stop: true}
  - id: late
    when: {words: [giveaway, refund]}
    then: {queue: pr, tags: [late]}
  - id: praise
    order: 10
    when: {words: [love]}
    then: {queue: forum, priority: low, risk: -20}
"""


def test_defaults_when_no_rule_matches(ruleset) -> None:
    d = evaluate(post("nice weather"), ruleset(RULES))
    assert (d.queue, d.priority, d.sla_policy, d.tags, d.matched) == (
        QueueName.FORUM,
        Priority.NORMAL,
        "relaxed",
        (),
        (),
    )
    assert d.risk == 0 and not d.page_pr and not d.needs_approval


def test_first_queue_and_sla_win_most_urgent_priority_wins_tags_add_up(ruleset) -> None:
    rs = ruleset(RULES)
    d = evaluate(post("my lawyer wants a refund", author_followers=50000), rs)
    assert d.matched == ("legal", "refund", "vip", "late")
    assert d.queue == QueueName.PR and d.sla_policy == "urgent" and d.priority == Priority.URGENT
    assert d.tags == ("legal", "refund", "vip", "late")
    assert d.risk == 100  # 60 + 50 clamped
    assert d.page_pr and d.needs_approval
    assert d.ruleset_version == rs.version


def test_priority_is_raised_by_a_later_rule(ruleset) -> None:
    d = evaluate(post("refund please", author_followers=50000), ruleset(RULES))
    assert (d.queue, d.priority) == (QueueName.CUSTOMER_SERVICE, Priority.HIGH)


def test_stop_skips_the_rules_after(ruleset) -> None:
    d = evaluate(post("giveaway! refund!"), ruleset(RULES), explain=True)
    assert d.matched == ("refund", "spam")
    late = next(h for h in d.hits if h.rule_id == "late")
    assert not late.matched and late.because == "skipped: `spam` stopped evaluation"


def test_order_field_runs_a_rule_later_and_risk_never_goes_below_zero(ruleset) -> None:
    d = evaluate(post("love it"), ruleset(RULES))
    assert d.matched == ("praise",) and d.risk == 0


def test_explain_has_a_hit_for_every_rule_in_evaluation_order(ruleset) -> None:
    rs = ruleset(RULES)
    d = evaluate(post("my lawyer"), rs, explain=True)
    assert [h.rule_id for h in d.hits] == [r.id for r in rs.rules]
    legal = d.hits[0]
    assert legal.matched and legal.because == "words matched 'lawyer'"
    d = evaluate(post("my lawyer", author_followers=3), rs, explain=True)
    vip = next(h for h in d.hits if h.rule_id == "vip")
    assert vip.because == "followers 3 is not >= 10000"
    refund = next(h for h in d.hits if h.rule_id == "refund")
    assert refund.because == "none of its words appear"


def test_routing_decision_carries_the_hits_of_the_matched_rules_only(ruleset) -> None:
    rs = ruleset(RULES)
    d = evaluate(post("giveaway! my lawyer wants a refund", author_followers=50000), rs)
    assert d.matched == ("legal", "refund", "vip", "spam")
    assert [(h.rule_id, h.matched, h.because) for h in d.hits] == [
        ("legal", True, "words matched 'lawyer'"),
        ("refund", True, "words matched 'refund'"),
        ("vip", True, "followers 50000 is >= 10000"),
        ("spam", True, "words matched 'giveaway'"),
    ]
    full = evaluate(post("giveaway! my lawyer wants a refund", author_followers=50000), rs, explain=True)
    assert [h for h in full.hits if h.matched] == list(d.hits)
    assert d.explanation() == full.explanation()
    assert evaluate(post("nice weather"), rs).hits == ()


def test_explanation_is_json_ready(ruleset) -> None:
    d = evaluate(post("my lawyer"), ruleset(RULES))
    e = d.explanation()
    assert e["queue"] == "pr" and e["priority"] == "urgent" and e["page"] is True
    assert e["why"] == [{"rule": "legal", "because": "words matched 'lawyer'"}]


def test_rule_with_word_inside_not_is_always_evaluated(ruleset) -> None:
    rs = ruleset("rules:\n  - id: quiet\n    when: {not: {words: [thanks]}}\n    then: {tags: [q]}\n")
    assert rs.always_candidates == ("quiet",)
    assert evaluate(post("help"), rs).matched == ("quiet",)
    assert evaluate(post("thanks"), rs).matched == ()


def test_evaluation_is_deterministic(ruleset) -> None:
    rs = ruleset(RULES)
    facts = post("lawyer refund giveaway love", author_followers=99999)
    assert len({evaluate(facts, rs) for _ in range(5)}) == 1


def test_sentiment_and_language_are_not_computed_unless_a_rule_needs_them(ruleset, monkeypatch) -> None:
    import rules.nlp

    def boom(text: str) -> object:
        raise AssertionError("computed without need")

    monkeypatch.setattr(rules.nlp, "sentiment", boom)
    monkeypatch.setattr(rules.nlp, "detect_language", boom)
    rs = ruleset(
        "rules:\n"
        "  - {id: s, when: {words: [awful], sentiment: {at_most: -0.5}}, then: {tags: [s]}}\n"
        "  - {id: l, when: {words: [bonjour], language: fr}, then: {tags: [l]}}\n"
    )
    assert evaluate(post("all fine", lang=None), rs).matched == ()


def test_a_stop_spares_the_costly_rules_after_it(ruleset, monkeypatch) -> None:
    import rules.nlp

    def boom(text: str) -> object:
        raise AssertionError("computed after a stop")

    monkeypatch.setattr(rules.nlp, "detect_language", boom)
    rs = ruleset(
        "rules:\n"
        "  - {id: spam, when: {words: [giveaway]}, then: {tags: [spam], stop: true}}\n"
        "  - {id: translate, when: {not: {language: en}}, then: {tags: [translate]}}\n"
    )
    for explain in (False, True):
        assert evaluate(post("giveaway", lang=None), rs, explain=explain).matched == ("spam",)
