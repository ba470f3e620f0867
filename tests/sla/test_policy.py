"""Loading the SLA file: the shipped file, and errors that name file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.settings import RULES_PACKAGE_DIR
from router.sla.policy import Action, SlaConfigError, load_sla_config, parse_sla_config

GOOD_CALENDAR = "calendars:\n  always: {timezone: UTC, hours: 24x7}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_config(text, "sla.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_shipped_file() -> None:
    config = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
    assert set(config.policy_names) >= {"urgent", "standard", "relaxed"}
    urgent, standard = config.policy("urgent"), config.policy("standard")
    assert (urgent.first_response, urgent.next_response, urgent.resolution) == (15, 15, 8 * 60)
    assert (standard.first_response, standard.next_response, standard.resolution) == (60, 120, 3 * 1440)
    assert standard.warn_at == 0.75 and standard.calendar == "support-uk"
    assert config.calendar("support-uk").timezone.key == "Europe/London"
    assert config.calendar("always").is_24x7
    for queue in ("forum", "customer_service", "pr"):
        stages = config.ladder(queue)
        assert stages and stages[0].at.business_minutes(60) == 45  # "-25%" of 60 minutes
        assert config.lead(queue)
    assert Action.PAGE_PR in config.ladder("pr")[1].do
    assert config.ladder("pr")[2].at.business_minutes(60) == 75  # "+15m"
    assert config.ladder("nowhere") == ()


def test_errors_name_the_line_and_column_and_suggest() -> None:
    found = problems(
        GOOD_CALENDAR
        + """\
  office:
    timezone: Europe/Berln
    hours:
      mon: ["09:00-12:00", "11:00-17:00"]
      thur: ["09:00-17:00"]
      fri: ["22:00-02:00"]
      sat: ["9am-5pm"]
    holiday_country: XX
policies:
  fast:
    calendar: alway
    first_response: 15
    resolution: 2w
    warn_at: 1.5
    frist_response: 10m
escalation:
  pr:
    - {at: "-25%", do: [page_everyone]}
    - {at: "soon", do: [page_pr]}
  press: []
default_policy: fastest
"""
    )
    expected = [
        "sla.yaml:4:15: calendar `office`: `timezone`: unknown IANA time zone `Europe/Berln`"
        " — did you mean `Europe/Berlin`?",
        "sla.yaml:6:12: calendar `office`: `hours`: `mon`: ranges overlap",
        "sla.yaml:7:7: unknown field `thur` in calendar `office`: `hours` — did you mean `thu`?",
        "sla.yaml:8:12: calendar `office`: `hours`: `fri`: `22:00-02:00` ends before it starts",
        "sla.yaml:9:12: calendar `office`: `hours`: `sat`: `9am-5pm` is not a range of times",
        "sla.yaml:10:22: unknown holiday country `XX`",
        "sla.yaml:17:5: unknown field `frist_response` in policy `fast` — did you mean `first_response`?",
        "sla.yaml:13:15: policy `fast`: unknown calendar `alway` — did you mean `always`?",
        "sla.yaml:14:21: policy `fast`: `first_response` must be a positive duration",
        "sla.yaml:15:17: policy `fast`: `resolution` must be a positive duration",
        "sla.yaml:16:14: policy `fast`: `warn_at` must be a fraction between 0 and 1",
        "sla.yaml:20:25: stage 1 of the `pr` escalation: unknown action `page_everyone`"
        " — did you mean `page_pr`?",
        "sla.yaml:21:12: stage 2 of the `pr` escalation: `at` must be an offset from the due time",
        "sla.yaml:22:3: unknown field `press` in `escalation` — did you mean `pr`?",
        "sla.yaml:23:17: unknown policy `fastest` in `default_policy` — did you mean `fast`?",
    ]
    for line in expected:
        assert any(p.startswith(line) for p in found), (line, found)
    assert len(found) == len(expected), found


def test_a_file_is_never_half_loaded(tmp_path: Path) -> None:
    broken = tmp_path / "sla.yaml"
    broken.write_text(GOOD_CALENDAR + "policies:\n  ok: {calendar: always, first_response: 1h}\n  bad: {}\n")
    with pytest.raises(SlaConfigError, match=r"sla.yaml:5:8: policy `bad` needs the field `calendar`"):
        load_sla_config(broken)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("calendars: [\n", "sla.yaml:2:1: YAML syntax error"),
        ("", "sla.yaml:1:1: the SLA file is empty"),
        (
            "calendars:\n  c: {timezone: UTC, hours: {}}\n",
            "sla.yaml:2:29: calendar `c`: `hours`: the calendar is never open",
        ),
        (
            "calenders: {}\n",
            "sla.yaml:1:1: unknown field `calenders` in the SLA file — did you mean `calendars`?",
        ),
        (GOOD_CALENDAR + "leads: {pr: [a, b]}\n", "sla.yaml:3:13: lead of pr must be text"),
        ("calendars:\n  c: {timezone: UTC, hours: {mon: ['09:00-25:00']}}\n", "is not a range of times"),
    ],
)
def test_more_errors(text: str, message: str) -> None:
    assert any(message in p for p in problems(text)), problems(text)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SlaConfigError, match="cannot read the SLA file"):
        load_sla_config(tmp_path / "nope.yaml")


def test_policy_versions_change_with_the_definition_and_its_calendar() -> None:
    base = GOOD_CALENDAR + "policies:\n  p: {calendar: always, first_response: 1h}\n"
    one = parse_sla_config(base).policy("p").version
    assert one == parse_sla_config(base + "# a comment changes nothing\n").policy("p").version
    assert one != parse_sla_config(base.replace("1h", "2h")).policy("p").version
    assert one != parse_sla_config(base.replace("UTC", "Europe/London")).policy("p").version
    assert one.startswith("p:")
