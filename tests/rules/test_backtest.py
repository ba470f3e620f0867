"""Backtest: the pure comparison, and the command on stored posts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from rules.backtest import ReplayPost, backtest
from rules.cli import PACKAGED_RULES, rules_group
from tests.rules.conftest import post

CURRENT = """\
rules:
  - id: legal
    when: {words: [lawyer]}
    then: {queue: pr, priority: urgent, sla: urgent, page: pr}
  - id: refund
    when: {words: [refund]}
    then: {queue: customer_service, sla: standard}
"""
NEW = CURRENT.replace("words: [refund]", "words: [refund, 'money back']").replace(
    "page: pr}", "page: pr}\n  - id: vip\n    when: {followers: 10000}\n    then: {priority: high}"
)


def replay(*texts_and_followers: tuple[str, int]) -> list[ReplayPost]:
    return [ReplayPost(f"x:{i}", post(t, author_followers=f)) for i, (t, f) in enumerate(texts_and_followers)]


def test_counts_moves_and_names_the_rules(ruleset) -> None:
    current, new = ruleset(CURRENT), ruleset(NEW)
    posts = replay(("my lawyer", 0), ("money back now", 0), ("refund", 0), ("hello", 50_000), ("hi", 0))
    seen = []
    report = backtest(posts, current, new, progress=seen.append)
    assert (report.posts, report.changed) == (5, 2)
    assert seen == [1, 2, 3, 4, 5]
    assert report.queue_moves == {("forum", "customer_service"): 1}
    assert report.priority_moves == {("normal", "high"): 1}
    assert report.sla_moves == {("relaxed", "standard"): 1}
    assert report.rules_started == {"refund": 1, "vip": 1}
    assert report.queues_before["forum"] == 3 and report.queues_after["forum"] == 2
    data = report.to_json()
    assert data["changed"] == 2 and data["rules"]["started_firing"] == {"refund": 1, "vip": 1}
    assert [s["post"] for s in data["samples"]] == ["x:1", "x:3"]
    assert data["samples"][0]["causes"] == ["+refund"]


def test_changed_actions_are_named(ruleset) -> None:
    current = ruleset(CURRENT)
    new = ruleset(CURRENT.replace("page: pr}", "page: pr, tags: [legal]}"))
    report = backtest(replay(("lawyer", 0)), current, new)
    assert report.changed == 1 and report.rules_changed == {"legal": 1}


def test_same_rules_change_nothing(ruleset) -> None:
    report = backtest(replay(("lawyer", 0), ("refund", 9)), ruleset(CURRENT), ruleset(CURRENT))
    assert report.changed == 0 and not report.samples


def _stored_post(case_id: int, key: str, text: str, at: datetime, direction: str = "inbound"):  # type: ignore[no-untyped-def]
    from router.models import Post

    author = "jo" if direction == "inbound" else "acme"
    return Post(channel="x", platform_id=key, account="@acme", author_handle=author, text=text, lang="en",
                created_at=at, direction=direction, case_id=case_id)  # fmt: skip


def test_command_replays_stored_posts(engine, tmp_path: Path) -> None:
    from sqlmodel import Session

    from router.models import Case

    now = datetime.now(UTC)
    with Session(engine) as session:
        case = Case(channel="x", account="@acme", author_handle="jo", queue="forum", sla_policy="relaxed",
                    ruleset_version="v0", created_at=now - timedelta(hours=2))  # fmt: skip
        session.add(case)
        session.flush()
        assert case.id is not None
        session.add(_stored_post(case.id, "0", "I want my money back", now - timedelta(hours=1)))
        session.add(_stored_post(case.id, "1", "love it", now - timedelta(hours=1)))
        session.add(_stored_post(case.id, "2", "my lawyer", now - timedelta(minutes=30)))
        session.add(_stored_post(case.id, "3", "old: money back", now - timedelta(days=30)))
        session.add(_stored_post(case.id, "r", "sorry!", now - timedelta(minutes=50), "outbound"))
        session.commit()
    new = tmp_path / "new.yaml"
    text = PACKAGED_RULES.read_text(encoding="utf-8")
    new.write_text(text.replace("      words: [refund, refunds,", "      words: [lawyer, refund, refunds,"))
    runner = CliRunner()
    against = ["--against", str(PACKAGED_RULES)]
    result = runner.invoke(rules_group, ["backtest", str(new), *against, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["posts"] == 3  # the 30-day-old post is outside the default 7 days
    assert data["changed"] == 1
    assert data["rules"]["started_firing"] == {"refund": 1}
    (sample,) = data["samples"]
    assert sample["post"] == "x:2" and sample["after"]["tags"][:2] == ["legal", "refund"]
    table = runner.invoke(rules_group, ["backtest", str(new), *against, "--since", "60d"])
    assert table.exit_code == 0, table.output
    assert "4 inbound posts of the last 60d replayed" in table.output and "Which rules" in table.output


def test_since_must_be_a_span(tmp_path: Path) -> None:
    result = CliRunner().invoke(rules_group, ["backtest", str(PACKAGED_RULES), "--since", "yesterday"])
    assert result.exit_code == 2 and "30m, 24h, 7d or 2w" in result.output


def test_thread_and_history_are_rebuilt_as_they_were_at_the_post() -> None:
    from types import SimpleNamespace

    from rules.cli_backtest import _history, _thread

    t = datetime(2026, 3, 4, 12, tzinfo=UTC)
    events = [
        (t - timedelta(hours=3), "jo"),
        (t - timedelta(minutes=50), "acme"),
        (t, "jo"),
        (t + timedelta(1), "al"),
    ]
    thread = _thread(events, t)
    assert (thread.posts, thread.distinct_authors, thread.replies_last_hour) == (3, 2, 1)

    def case(id_: int, days_ago: float, resolved_days_ago: float | None = None):  # type: ignore[no-untyped-def]
        resolved = t - timedelta(days=resolved_days_ago) if resolved_days_ago is not None else None
        return SimpleNamespace(
            id=id_, created_at=t - timedelta(days=days_ago), resolved_at=resolved, status="open"
        )

    history, known = _history([case(1, 40, 39), case(2, 10), case(3, 5, -1), case(4, 0), case(5, -1)], 4, t)
    assert (history.open_cases, history.cases_30d, known) == (2, 2, True)
    assert _history([case(4, 0)], 4, t) == (_history([], None, t)[0], False)
