"""rules/default.yaml routing real posts through the real pipeline, visible in `engage queue list`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from router import cli

POSTS = {
    "legal": ("maria_k", 300, False, "I'm talking to my lawyer about this order, it's the third time"),
    "safety": (
        "dad_of_two",
        150,
        False,
        "Your charger overheated and burnt my son's hand, we're at the hospital",
    ),
    "influencer": ("big_voice", 250_000, True, "Worst service ever, @AcmeHelp has ignored me for a week"),
    "question": ("dave_codes", 80, False, "What time does the Berlin store open on Sundays?"),
    "praise": ("sunny_side", 500, False, "The new oat bars are amazing, thank you so much!"),
}


def _jsonl(tmp_path: Path) -> Path:
    lines = []
    for kind, (handle, followers, verified, text) in POSTS.items():
        lines.append(
            json.dumps(
                {
                    "channel": "x",
                    "platform_id": f"e2e-{kind}",
                    "account": "AcmeHelp",
                    "author": {"handle": handle, "followers": followers, "verified": verified},
                    "text": f"@AcmeHelp {text}",
                    "created_at": "2026-11-18T11:00:00Z",
                    "lang": "en",
                }
            )
        )
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_default_rules_route_each_kind_and_the_queue_shows_why(engine, tmp_path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.main, ["ingest", str(_jsonl(tmp_path)), "--format", "jsonl"]).exit_code == 0
    listed = runner.invoke(cli.main, ["queue", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    by_kind = {c["first_post"]["platform_id"].removeprefix("e2e-"): c for c in json.loads(listed.output)}

    routed = {kind: (c["queue"], c["priority"]) for kind, c in by_kind.items()}
    assert routed == {
        "legal": ("pr", "urgent"),
        "safety": ("pr", "urgent"),
        "influencer": ("pr", "high"),
        "question": ("customer_service", "normal"),
        "praise": ("forum", "low"),
    }
    assert by_kind["legal"]["page_pr"] and by_kind["legal"]["needs_approval"]
    why = by_kind["legal"]["routing"]
    assert "legal-threat" in why["matched"] and why["ruleset_version"].startswith("sha256:")
    assert any(w["rule"] == "legal-threat" and "lawyer" in w["because"] for w in why["why"])
    assert "influencer-complaint" in by_kind["influencer"]["routing"]["matched"]
