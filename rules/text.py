"""Text normalization shared by the word index, the words condition and example matching.

Words match case- and accent-insensitively, on whole words, and emoji match as themselves:
both the post and every phrase go through `normalize`, and a hit counts only if the phrase's
alphanumeric ends are not glued to other letters or digits.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Variation selectors and zero-width joiner glue do not change what an emoji means here.
_DROP = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200b\u200c\u200d\u2060"), None)
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """Lower case, accents removed, quotes unified, whitespace runs collapsed to one space."""
    if text.isascii():
        return _SPACES.sub(" ", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.translate(_DROP).translate(_FOLD).casefold())


def is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def whole_word_at(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is not glued to letters or digits on an alphanumeric side.

    An end of the phrase that is itself not alphanumeric (an emoji, '#', '!') needs no boundary.
    """
    if is_word_char(text[start]) and start > 0 and is_word_char(text[start - 1]):
        return False
    last = end - 1
    return not (is_word_char(text[last]) and end < len(text) and is_word_char(text[end]))
