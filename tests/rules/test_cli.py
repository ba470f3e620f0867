"""`engage rules check | test | explain` on the shipped rule set and on broken copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules.cli import PACKAGED_RULES, rules_group

SLA_ARGS = ["--sla-policy", "urgent", "--sla-policy", "standard", "--sla-policy", "relaxed"]


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(rules_group, list(args), catch_exceptions=False)

    return _run


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    text = PACKAGED_RULES.read_text(encoding="utf-8")
    text = text.replace("followers: {at_least: 100000}", "folowers: {at_least: 100000}", 1)
    text = text.replace("sla: urgent", "sla: urgnet", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_default(run) -> None:
    result = run("check", str(PACKAGED_RULES), *SLA_ARGS)
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output and "sha256:" in result.output


def test_check_without_file_uses_the_configured_rules(run) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output


def test_check_broken_copy_names_file_line_and_column(run, broken: Path) -> None:
    result = run("check", str(broken), *SLA_ARGS)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        line.startswith(f"{broken}:")
        and "unknown field `folowers` in a condition — did you mean `followers`?" in line
        for line in lines
    ), result.output
    assert any("unknown SLA policy `urgnet` — did you mean `urgent`?" in line for line in lines)
    assert "not loaded" in result.output


def test_test_runs_every_example(run) -> None:
    result = run("test", str(PACKAGED_RULES))
    assert result.exit_code == 0, result.output
    assert "pass legal-threat" in result.output and " 0 failed" in result.output


def test_test_fails_with_exit_1(run, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "defaults: {queue: forum, priority: normal, sla: relaxed}\n"
        "rules:\n"
        "  - id: legal\n"
        "    when: {words: [lawyer]}\n"
        "    then: {queue: pr}\n"
        "    examples:\n"
        "      - text: my lawyer\n"
        "      - text: my attorney\n"
        "      - text: my lawyer\n"
        "        expect: {queue: customer_service, page: true}\n",
        encoding="utf-8",
    )
    result = run("test", str(path))
    assert result.exit_code == 1
    assert f"pass legal  {path}:7" in result.output
    assert f"FAIL legal  {path}:8" in result.output and "rule did not fire" in result.output
    assert "queue is pr, expected customer_service" in result.output
    assert "page is false, expected true" in result.output
    assert "1 passed, 2 failed" in result.output


def test_explain_json_keys(run) -> None:
    result = run(
        "explain", str(PACKAGED_RULES), "--text", "I will see you in court, talking to my lawyer", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"queue", "priority", "sla_policy", "tags", "page", "risk", "matched"} <= set(data)
    assert data["queue"] == "pr" and data["page"] is True and "legal-threat" in data["matched"]
    assert len(data["rules"]) == 18
    assert all({"rule", "matched", "because"} == set(r) for r in data["rules"])


def test_explain_text_options(run) -> None:
    result = run(
        "explain",
        str(PACKAGED_RULES),
        "--text",
        "Still nothing from @acme, support is useless. Never again.",
        "--followers",
        "250000",
        "--verified",
        "--channel",
        "x",
        "--lang",
        "en",
        "--at",
        "2026-03-04T14:00:00Z",
        "--json",
    )
    data = json.loads(result.output)
    assert (data["queue"], data["priority"]) == ("pr", "high")
    assert "influencer-complaint" in data["matched"]


def test_explain_table(run) -> None:
    result = run("explain", str(PACKAGED_RULES), "--text", "where is my order?", "--lang", "en")
    assert result.exit_code == 0
    assert "customer_service" in result.output and "delivery" in result.output


def test_explain_post_file(run, tmp_path: Path) -> None:
    post = {
        "channel": "facebook",
        "platform_id": "1",
        "account": "acme",
        "author": {"handle": "jo", "followers": 12, "verified": False},
        "text": "My kettle caught fire this morning",
        "lang": "en",
        "created_at": "2026-03-04T10:00:00Z",
        "thread": {"posts": 3},
    }
    path = tmp_path / "post.json"
    path.write_text(json.dumps(post), encoding="utf-8")
    data = json.loads(run("explain", str(PACKAGED_RULES), "--post", str(path), "--json").output)
    assert data["queue"] == "pr" and "safety-health" in data["matched"]


def test_explain_needs_exactly_one_input(run) -> None:
    runner = CliRunner()
    result = runner.invoke(rules_group, ["explain", str(PACKAGED_RULES)])
    assert result.exit_code == 2 and "exactly one of --text or --post" in result.output
