"""X counts a post's length by weight: light scripts 1, CJK and others 2, emoji 2, URLs 23."""

from __future__ import annotations

import pytest

from router.web.xtext import fits, weighted_length


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("a" * 280, 280),
        ("café", 4),
        ("cafe\u0301", 4),  # NFC: e + combining accent is one character
        ("Привет", 6),  # Cyrillic is in the light range
        ("日本語", 6),
        ("한국어", 6),
        ("😀", 2),
        ("👍🏽", 2),  # with a skin tone
        ("👨‍👩‍👧", 2),  # a ZWJ family
        ("🇩🇪", 2),  # a flag: two regional indicators
        ("1️⃣", 2),  # keycap
        ("❤️", 2),
        ("©", 1),  # text presentation
        ("— “quoted” …", 13),  # dashes and quotes weigh 1, the ellipsis U+2026 weighs 2
        ("see https://example.com/a/very/long/path?x=1 ok", 4 + 23 + 3),
        ("http://x.co", 23),
        ("visit example.com.", 6 + 23 + 1),
        ("mail me@example.com", 8 + 11),  # an address is not a link
    ],
)
def test_weighted_length(text: str, length: int) -> None:
    assert weighted_length(text) == length


def test_the_280_limit() -> None:
    assert fits("a" * 280) and not fits("a" * 281)
    assert fits("日" * 140) and not fits("日" * 141)
    assert fits("https://example.com/" + "x" * 500)
    assert not fits("")
