"""The compiled checks (routing path) and `explain` (the reasons) always agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.cli import PACKAGED_RULES
from rules.engine import evaluate
from rules.loader import load_ruleset
from tests.rules.conftest import post

DEFAULT = load_ruleset(PACKAGED_RULES)
EXTRA = ["hello", "the", "order", "#123456", "?", "!", "café", "😡", "❤️", "lawyers", "re-fund"]
WORDS = [*sorted({p for r in DEFAULT.rules for p in r.when.all_phrases()}), *EXTRA]

posts = st.builds(
    lambda words, followers, verified, known, lang, minutes, replies, authors, open_cases, cases: post(
        " ".join(words),
        author_followers=followers,
        author_verified=verified,
        known_customer=known,
        lang=lang,
        created_at=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=minutes),
        replies_last_hour=replies,
        distinct_authors=authors,
        open_cases=open_cases,
        cases_30d=cases,
    ),
    st.lists(st.sampled_from(WORDS), max_size=12),
    st.sampled_from([0, 50, 9_999, 10_000, 100_000, 250_000]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["en", "fr", None]),
    st.integers(0, 7 * 24 * 60),
    st.integers(0, 60),
    st.integers(1, 20),
    st.integers(0, 2),
    st.integers(0, 5),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(posts)
def test_fast_and_explained_decisions_agree(facts) -> None:
    fast = evaluate(facts, DEFAULT)
    slow = evaluate(facts, DEFAULT, explain=True)
    assert (fast.queue, fast.priority, fast.sla_policy, fast.tags, fast.risk, fast.matched) == (
        slow.queue,
        slow.priority,
        slow.sla_policy,
        slow.tags,
        slow.risk,
        slow.matched,
    )
    assert list(fast.hits) == [h for h in slow.hits if h.matched]
    assert [h.rule_id for h in fast.hits] == list(fast.matched)
