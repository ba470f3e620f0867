"""`engage sla due` and `engage sla check` through click's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main
from router.settings import RULES_PACKAGE_DIR

SLA_FILE = str(RULES_PACKAGE_DIR / "sla.yaml")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["sla", *args])
    return result.exit_code, result.output.strip()


def due(calendar: str, start: str, minutes: str, *more: str, config: str = SLA_FILE) -> tuple[int, str]:
    return run(
        "due", "--config", config, "--calendar", calendar, "--start", start, "--minutes", minutes, *more
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # support-uk, Fri 2026-11-20 19:30 GMT + 60: 30 minutes to 20:00, Sat 10:00 + 30.
        (["support-uk", "2026-11-20T19:30:00Z", "60"], "2026-11-21T10:30:00+00:00"),
        # Lunch: Mon 12:00 + 60: 30 minutes to 12:30, 13:30 + 30 = 14:00.
        (["support-uk", "2026-11-23T12:00:00+00:00", "60"], "2026-11-23T14:00:00+00:00"),
        # Christmas: Thu 24th 19:30 + 60 -> 30 minutes; 25th, 26th (Sat), 28th (Boxing Day observed) are
        # holidays, Sunday is closed -> Tue 29th 08:30.
        (["support-uk", "2026-12-24T19:30:00Z", "60"], "2026-12-29T08:30:00+00:00"),
        # British Summer Time begins Sun 2026-03-29: Sat 28th 15:30 GMT + 60 -> 30 minutes to 16:00 GMT,
        # Mon 30th 08:00 BST + 30 = 08:30+01:00.
        (["support-uk", "2026-03-28T15:30:00Z", "60"], "2026-03-30T08:30:00+01:00"),
        # 24x7 with a pause: 10:00 + 15 with 10:05-10:20 paused -> 10:30.
        (
            ["always", "2026-11-23T10:00:00Z", "15", "--pause", "2026-11-23T10:05:00Z/2026-11-23T10:20:00Z"],
            "2026-11-23T10:30:00+00:00",
        ),
    ],
)
def test_due(args: list[str], expected: str) -> None:
    assert due(*args) == (0, expected)


def test_due_with_the_issue_example_file_across_berlin_dst(tmp_path: Path) -> None:
    config = tmp_path / "sla.yaml"
    config.write_text(
        "calendars:\n  support-de:\n    timezone: Europe/Berlin\n    hours:\n"
        '      mon: ["09:00-12:00", "13:00-17:00"]\n      tue: ["09:00-17:00"]\n      sat: ["10:00-14:00"]\n'
        '    holidays: ["2026-12-25", "2026-12-26"]\n  always:\n    timezone: UTC\n    hours: 24x7\n'
    )
    # Sat 2026-10-24 13:30 CEST + 60: 30 minutes to 14:00; clocks go back on Sunday; Mon 26th
    # 09:00 CET + 30 = 09:30+01:00.
    assert due("support-de", "2026-10-24T13:30:00+02:00", "60", config=str(config)) == (
        0,
        "2026-10-26T09:30:00+01:00",
    )


def test_due_errors() -> None:
    code, out = due("suport-uk", "2026-11-20T10:00:00Z", "5")
    assert code == 2 and "did you mean `support-uk`" in out
    code, out = due("always", "2026-11-20T10:00", "5")
    assert code == 2 and "needs an offset" in out
    code, out = due("always", "2026-11-20T10:00Z", "30", "--pause", "2026-11-20T10:10:00Z/")
    assert code == 1 and "never" in out


def test_check(tmp_path: Path) -> None:
    code, out = run("check", "--config", SLA_FILE)
    assert code == 0 and "policy standard (default)" in out and "escalation pr" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("calendars:\n  c: {timezone: Mars/Olympus, hours: 24x7}\n")
    code, out = run("check", "--config", str(bad))
    assert code == 1 and f"{bad}:2:17: calendar `c`: `timezone`: unknown IANA time zone" in out
