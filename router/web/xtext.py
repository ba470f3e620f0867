"""Counting a post's length the way X does (twitter-text v3 weighting).

NFC-normalized code points; those in the light ranges (Latin, most European scripts, common
punctuation) weigh 1, everything else (CJK, most symbols) weighs 2; an emoji, however many code
points its sequence has, weighs 2; a URL counts as 23 whatever its length.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
TRANSFORMED_URL_LENGTH = 23
SCALE, DEFAULT_WEIGHT = 100, 200
LIGHT_RANGES = ((0x0000, 0x10FF, 100), (0x2000, 0x200D, 100), (0x2010, 0x201F, 100), (0x2032, 0x2037, 100))

_TLDS = "com|net|org|io|co|dev|app|info|biz|me|ly|gl|gg|tv|us|uk|de|fr|es|it|nl|jp|cn|ru|br|in|eu|ai"
URL = re.compile(
    rf"(?<![\w@.])(?:https?://[^\s<>\"]+|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})"
    rf"(?![a-z0-9-])(?:[/?#][^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)'\""

ZWJ, VS16, KEYCAP = 0x200D, 0xFE0F, 0x20E3
SKIN_TONES = range(0x1F3FB, 0x1F400)
TAGS = range(0xE0020, 0xE0080)
REGIONAL = range(0x1F1E6, 0x1F200)
PICTOGRAPHIC = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B05, 0x2B55),
    (0x2190, 0x21FF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25FE),
)
# these are text characters unless followed by U+FE0F (emoji presentation)
_TEXT_DEFAULT = frozenset({0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, *range(0x2190, 0x2200)})


def _pictographic(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in PICTOGRAPHIC)


def _weight(cp: int) -> int:
    for lo, hi, weight in LIGHT_RANGES:
        if lo <= cp <= hi:
            return weight
    return DEFAULT_WEIGHT


def _emoji_length(cps: list[int], i: int) -> int:
    """Code points of the emoji sequence starting at i, or 0 when none starts there."""
    cp, n = cps[i], len(cps)
    nxt = cps[i + 1] if i + 1 < n else None
    if cp in REGIONAL:
        return 2 if nxt is not None and nxt in REGIONAL else 1
    if chr(cp) in "0123456789#*" and nxt == VS16 and i + 2 < n and cps[i + 2] == KEYCAP:
        return 3
    if not _pictographic(cp) or (cp in _TEXT_DEFAULT and nxt != VS16):
        return 0
    j = i + 1
    while j < n:
        if cps[j] == VS16 or cps[j] in SKIN_TONES or cps[j] in TAGS or cps[j] == KEYCAP:
            j += 1
        elif cps[j] == ZWJ and j + 1 < n and _pictographic(cps[j + 1]):
            j += 2
        else:
            break
    return j - i


def _url_spans(text: str) -> dict[int, int]:
    spans = {}
    for match in URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCT)
        if url:
            spans[match.start()] = len(url)
    return spans


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    urls = _url_spans(text)
    cps = [ord(c) for c in text]
    total, i = 0, 0
    while i < len(cps):
        if i in urls:
            total += TRANSFORMED_URL_LENGTH * SCALE
            i += urls[i]
            continue
        emoji = _emoji_length(cps, i)
        if emoji:
            total += DEFAULT_WEIGHT
            i += emoji
            continue
        total += _weight(cps[i])
        i += 1
    return total // SCALE


def fits(text: str) -> bool:
    return 0 < weighted_length(text) <= MAX_WEIGHTED_LENGTH
