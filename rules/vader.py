"""VADER's compound score, computed as vaderSentiment 3.3.2 computes it, about ten times faster.

`SentimentIntensityAnalyzer.polarity_scores` re-lowercases the whole word list several times for
every lexicon word, rebuilds the negation list per lookup, walks every character to replace
emoji, and computes pos/neu/neg, which routing never reads. This module keeps the package's
lexicons, constants and every rule, including its quirks (the `but` re-weighting that looks values
up by equality, the three-word window precedence of `never so`), in the same floating-point
order, so the compound score is the same number. tests/rules/test_vader.py compares the two on a
corpus and on generated sentences made of the words the rules react to.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Set

from vaderSentiment import vaderSentiment as _v

B_DICT: Mapping[str, float] = _v.BOOSTER_DICT
NEGATE = frozenset(_v.NEGATE)
SPECIAL_CASES: Mapping[str, float] = _v.SPECIAL_CASES
N_SCALAR = _v.N_SCALAR
C_INCR = _v.C_INCR
_PUNCT = string.punctuation
_SO_THIS = ("so", "this")
# the words of the multi-word special cases and boosters: an idiom needs all of its words
_IDIOM_WORDS = frozenset(" ".join(k for k in (*SPECIAL_CASES, *B_DICT) if " " in k).split())


def _negated(word: str) -> bool:
    return word in NEGATE or "n't" in word


def _scalar_inc_dec(word: str, lower: str, valence: float, cap_diff: bool) -> float:
    scalar = 0.0
    if lower in B_DICT:
        scalar = B_DICT[lower]
        if valence < 0:
            scalar *= -1
        if word.isupper() and cap_diff:
            if valence > 0:
                scalar += C_INCR
            else:
                scalar -= C_INCR
    return scalar


def _negation(valence: float, low: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _negated(low[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if low[i - 2] == "never" and low[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif low[i - 2] == "without" and low[i - 1] == "doubt":
            pass
        elif _negated(low[i - 2]):
            valence = valence * N_SCALAR
    else:
        # vaderSentiment's precedence: (never and (so or this)) or (so or this)
        if (low[i - 3] == "never" and low[i - 2] in _SO_THIS) or low[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
            pass
        elif _negated(low[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _idioms(valence: float, low: list[str], i: int) -> float:
    # every sequence below contains one of low[i - 3 .. i]
    if not any(w in _IDIOM_WORDS for w in low[i - 3 : i + 1]):
        return valence
    onezero = f"{low[i - 1]} {low[i]}"
    twoonezero = f"{low[i - 2]} {low[i - 1]} {low[i]}"
    twoone = f"{low[i - 2]} {low[i - 1]}"
    threetwoone = f"{low[i - 3]} {low[i - 2]} {low[i - 1]}"
    threetwo = f"{low[i - 3]} {low[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(low) - 1 > i:
        zeroone = f"{low[i]} {low[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(low) - 1 > i + 1:
        zeroonetwo = f"{low[i]} {low[i + 1]} {low[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in B_DICT:
            valence = valence + B_DICT[n_gram]
    return valence


def _but(low: list[str], sentiments: list[float]) -> list[float]:
    # verbatim: `index(sentiment)` finds the first equal value, which may already be re-weighted
    if "but" in low:
        bi = low.index("but")
        for sentiment in sentiments:
            si = sentiments.index(sentiment)
            if si < bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 0.5)
            elif si > bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 1.5)
    return sentiments


class Vader:
    __slots__ = ("_emoji", "emojis", "lexicon")

    def __init__(self, lexicon: Mapping[str, float], emojis: Mapping[str, str]) -> None:
        self.lexicon = lexicon
        self.emojis = emojis
        # polarity_scores looks emoji up one character at a time: longer keys never match
        self._emoji = frozenset(e for e in emojis if len(e) == 1)

    @classmethod
    def packaged(cls) -> Vader:
        analyzer = _v.SentimentIntensityAnalyzer()
        return cls(analyzer.lexicon, analyzer.emojis)

    def _describe_emoji(self, text: str, present: Set[str]) -> str:
        """Each emoji replaced by its description, a space before it unless the text starts there
        or a space precedes it (polarity_scores' character loop, without the loop)."""
        spots = []
        for char in present:
            at = text.find(char)
            while at != -1:
                spots.append(at)
                at = text.find(char, at + 1)
        spots.sort()
        parts = []
        last = 0
        for at in spots:
            parts.append(text[last:at])
            if at and text[at - 1] != " ":
                parts.append(" ")
            parts.append(self.emojis[text[at]])
            last = at + 1
        parts.append(text[last:])
        return "".join(parts)

    def compound(self, text: str) -> float:
        if not text.isascii():
            present = self._emoji.intersection(text)
            if present:
                text = self._describe_emoji(text, present)
        text = text.strip()
        words = [token if len(bare := token.strip(_PUNCT)) <= 2 else bare for token in text.split()]
        if not words:
            return 0.0
        low = list(map(str.lower, words))
        n = len(words)
        caps = sum(map(str.isupper, words))
        cap_diff = 0 < n - caps < n
        lexicon = self.lexicon
        sentiments: list[float] = [0] * n
        for i, lw in enumerate(low):
            if lw not in lexicon or lw in B_DICT or (lw == "kind" and i < n - 1 and low[i + 1] == "of"):
                continue
            sentiments[i] = self._valence(words, low, i, cap_diff)
        _but(low, sentiments)
        sum_s = float(sum(sentiments))
        ep = text.count("!")
        if ep > 4:
            ep = 4
        qm = text.count("?")
        qm_amp: float = 0
        if qm > 1:
            qm_amp = qm * 0.18 if qm <= 3 else 0.96
        amplifier = ep * 0.292 + qm_amp
        if sum_s > 0:
            sum_s += amplifier
        elif sum_s < 0:
            sum_s -= amplifier
        score = sum_s / math.sqrt((sum_s * sum_s) + 15)
        return round(max(-1.0, min(1.0, score)), 4)

    def _valence(self, words: list[str], low: list[str], i: int, cap_diff: bool) -> float:
        lexicon = self.lexicon
        lw = low[i]
        valence = lexicon[lw]
        if lw == "no" and i != len(low) - 1 and low[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and low[i - 1] == "no")
            or (i > 1 and low[i - 2] == "no")
            or (i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[lw] * N_SCALAR
        if words[i].isupper() and cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(3):
            j = i - (start_i + 1)
            if i > start_i and low[j] not in lexicon:
                s = _scalar_inc_dec(words[j], low[j], valence, cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation(valence, low, start_i, i)
                if start_i == 2:
                    valence = _idioms(valence, low, i)
        if i > 1 and low[i - 1] not in lexicon and low[i - 1] == "least":
            if low[i - 2] != "at" and low[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and low[i - 1] not in lexicon and low[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence
