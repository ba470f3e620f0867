"""A broken rule file is refused whole, and every problem names file:line:column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.errors import RuleFileError
from rules.loader import load_ruleset
from tests.rules.conftest import SLA

GOOD_RULE = """\
defaults: {queue: forum, priority: normal, sla: relaxed}
rules:
  - id: vip
    when:
      followers: {at_least: 10000}
    then: {queue: pr, sla: urgent}
"""


def problems(path: Path, known: frozenset[str] | None = SLA) -> list[str]:
    with pytest.raises(RuleFileError) as caught:
        load_ruleset(path, known_sla_policies=known)
    lines = str(caught.value).splitlines()
    assert lines == [str(p) for p in caught.value.problems]
    return lines


def test_good_file_loads(write) -> None:
    rs = load_ruleset(write(GOOD_RULE), known_sla_policies=SLA)
    assert [r.id for r in rs.rules] == ["vip"]
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", rs.version)
    assert rs.sla_policies_used == {"urgent", "relaxed"}


def test_typo_in_field_suggests_the_right_name(write) -> None:
    path = write(GOOD_RULE.replace("followers:", "folowers:"))
    assert problems(path) == [
        f"{path}:5:7: unknown field `folowers` in a condition — did you mean `followers`?"
    ]


def test_typo_in_rule_and_action_fields(write) -> None:
    path = write(GOOD_RULE.replace("then:", "than:").replace("    when:", "    wehn:"))
    found = problems(path)
    assert f"{path}:4:5: unknown field `wehn` in a rule — did you mean `when`?" in found
    assert f"{path}:6:5: unknown field `than` in a rule — did you mean `then`?" in found


def test_wrong_type(write) -> None:
    path = write(GOOD_RULE.replace("{at_least: 10000}", "{at_least: lots}"))
    assert problems(path) == [f"{path}:5:29: `followers.at_least` must be a number, got `lots`"]


def test_wrong_type_for_flag_and_list(write) -> None:
    path = write(
        GOOD_RULE.replace("followers: {at_least: 10000}", "verified: maybe").replace(
            "sla: urgent", "tags: {a: 1}"
        )
    )
    found = problems(path)
    assert f"{path}:5:17: `verified` must be true or false, got `maybe`" in found
    assert any(p.startswith(f"{path}:6:") and "`tags` must be text or a non-empty list" in p for p in found)


def test_unknown_queue(write) -> None:
    path = write(GOOD_RULE.replace("queue: pr", "queue: press"))
    (only,) = problems(path)
    assert only.startswith(f"{path}:6:19: unknown queue `press` — did you mean `pr`?")


def test_unknown_sla_policy(write) -> None:
    path = write(GOOD_RULE.replace("sla: urgent", "sla: urgnet"))
    (only,) = problems(path)
    assert only.startswith(f"{path}:6:28: unknown SLA policy `urgnet` — did you mean `urgent`?")


def test_sla_names_not_checked_without_a_list(write) -> None:
    assert load_ruleset(write(GOOD_RULE.replace("sla: urgent", "sla: anything"))).rules


def test_bad_regex(write) -> None:
    path = write(GOOD_RULE.replace("followers: {at_least: 10000}", "regex: 'order (#\\d+'"))
    (only,) = problems(path)
    assert only.startswith(f"{path}:5:14: `regex`: invalid regular expression")
    assert "missing )" in only


def test_yaml_syntax_error(write) -> None:
    path = write(GOOD_RULE.replace("{at_least: 10000}", "{at_least: 10000"))
    (only,) = problems(path)
    assert re.match(rf"{re.escape(str(path))}:6:\d+: YAML syntax error", only)


def test_yaml_indentation_error(write) -> None:
    path = write(GOOD_RULE.replace("    then:", "   then:"))
    (only,) = problems(path)
    assert only.startswith(f"{path}:6:") and "YAML syntax error" in only


def test_every_problem_is_reported_not_only_the_first(write) -> None:
    text = (
        GOOD_RULE
        + """\
  - id: second
    when: {words: [x], chanel: x}
    then: {priority: urgentt, risk: high}
"""
    )
    found = problems(write(text))
    assert len(found) == 3
    assert "did you mean `channel`?" in found[0]
    assert "unknown priority `urgentt` — did you mean `urgent`?" in found[1]
    assert "`risk` must be a number" in found[2]


def test_missing_fields_duplicate_ids_and_defaults(write) -> None:
    text = """\
rules:
  - id: a
    when: {verified: true}
    then: {queue: pr}
  - id: a
    when: {verified: true}
    then: {queue: pr}
  - when: {verified: true}
    then: {queue: pr}
"""
    path = write(text)
    found = problems(path)
    assert f"{path}:1:1: no `defaults:` section (queue, priority and sla of posts no rule decides)" in found
    assert f"{path}:5:5: duplicate rule id `a` (first at {path}:2)" in found
    assert f"{path}:8:5: a rule needs the field `id`" in found


def test_bad_example_is_a_load_error(write) -> None:
    text = GOOD_RULE + "    examples:\n      - text: hi\n        expect: {queue: forums}\n"
    (only,) = problems(write(text))
    assert "unknown queue `forums` — did you mean `forum`?" in only


def test_folder_of_files_in_name_order(write, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "10-base.yaml").write_text(GOOD_RULE, encoding="utf-8")
    (folder / "20-more.yaml").write_text(
        "rules:\n  - id: praise\n    when: {words: [love]}\n    then: {queue: forum}\n", encoding="utf-8"
    )
    rs = load_ruleset(folder, known_sla_policies=SLA)
    assert [r.id for r in rs.rules] == ["vip", "praise"]
    assert rs.source == folder
    (folder / "30-broken.yaml").write_text("rules: [\n", encoding="utf-8")
    found = problems(folder)
    assert found[0].startswith(f"{folder / '30-broken.yaml'}:2:1: YAML syntax error")


def test_missing_path_and_empty_file(write, tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}:1:1: no such rule file or folder"]
    empty = write("")
    assert problems(empty) == [f"{empty}:1:1: the file is empty"]


def test_order_field_then_file_order(ruleset) -> None:
    rs = ruleset(
        "rules:\n"
        "  - {id: a, when: {verified: true}, then: {queue: forum}}\n"
        "  - {id: b, order: -5, when: {verified: true}, then: {queue: pr}}\n"
        "  - {id: c, when: {verified: true}, then: {queue: pr}}\n"
        "  - {id: d, enabled: false, when: {verified: true}, then: {queue: pr}}\n"
    )
    assert [r.id for r in rs.rules] == ["b", "a", "c"]
