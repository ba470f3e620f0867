"""The regex condition skips the regex when a substring every match needs is absent; that never
changes the answer."""

from __future__ import annotations

import re

import pytest

from rules.conditions.words import required_text
from rules.engine import evaluate
from tests.rules.conftest import post


@pytest.mark.parametrize(
    ("pattern", "flags", "required"),
    [
        (r"https?://bit\.ly/\w+", re.IGNORECASE, "://"),
        (r"order\s*#?\d{6,}", re.IGNORECASE, ""),  # letters may match other cases
        (r"refund", 0, "refund"),  # case-sensitive: letters count
        (r"a|b", 0, ""),
        (r"(?i:://)x", 0, "x"),  # scoped flags: the group is not a plain literal
        (r"^\+44 ?\d", re.IGNORECASE, "+44"),
        (r"k:1", re.IGNORECASE, ":1"),  # 'k' also matches the Kelvin sign
    ],
)
def test_required_text(pattern: str, flags: int, required: str) -> None:
    assert required_text(re.compile(pattern, flags)) == required


def test_rule_with_prefiltered_regex_matches_as_before(ruleset) -> None:  # type: ignore[no-untyped-def]
    rs = ruleset("rules:\n  - {id: link, when: {regex: 'https?://bit\\.ly/\\w+'}, then: {tags: [l]}}\n")
    assert evaluate(post("see HTTPS://BIT.LY/abc now"), rs).matched == ("link",)
    assert evaluate(post("see https//bit.ly/abc"), rs).matched == ()
    assert evaluate(post("see http://bit.ly/"), rs).matched == ()
