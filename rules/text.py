"""Text normalization shared by the word index, the words condition and example matching.

Words match case- and accent-insensitively, on whole words, and emoji match as themselves:
both the post and every phrase go through `normalize`, and a hit counts only if the phrase's
alphanumeric ends are not glued to other letters or digits.
"""

from __future__ import annotations

import re
import unicodedata

# Combining diacritics (after NFKD), variation selectors and zero-width glue: dropped, so "é" matches
# "e" and "❤️" matches "❤".
_MARKS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\ufe0e\ufe0f\u200b-\u200d\u2060]+"
)
_QUOTES = re.compile("[\u2018\u2019\u02bc\u201c\u201d]")
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """Lower case, accents removed, quotes unified, whitespace runs collapsed to one space."""
    if text.isascii():
        return " ".join(text.lower().split())
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    if _QUOTES.search(text):
        text = text.translate(_FOLD)
    return " ".join(text.casefold().split())


def is_word_char(char: str) -> bool:
    return char.isalnum()


def whole_word_at(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is not glued to letters or digits on an alphanumeric side.

    An end of the phrase that is itself not alphanumeric (an emoji, '#', '!') needs no boundary.
    """
    if is_word_char(text[start]) and start > 0 and is_word_char(text[start - 1]):
        return False
    last = end - 1
    return not (is_word_char(text[last]) and end < len(text) and is_word_char(text[end]))
