"""py3langid's `classify`, the same answer from the same model, faster: about 2-3 times on a tweet
when the model's tables are in the CPU cache, about 1.5 times when they are not (the work is bound
by memory reads then: ~100 random steps in a 39 MB table and ~60 rows of the weights).

py3langid keeps its naive Bayes weights as float16 and multiplies them with float32 counts; NumPy
then converts the selected float16 rows element by element, in software, for every call: most of
a classification (~60 of ~95 µs for a tweet). Here the whole table is converted once, on first
use (exact: every float16 is a float32; 57 MB instead of 28 MB, ~0.1 s), so the product runs on the
float32 rows NumPy would have converted to, in the same order: the scores are the same bits.

The byte-level DFA walk (py3langid's `visit_counts`) is the other half: one step per byte through a
39 MB transition table, each step also reading two Python lists of int objects (the state's row and
its feature). Here one packed array holds both per state (0.8 MB), so a step costs one table read
and one small-array read; the features come out in the same order, so counts and scores are equal.
(Remembering the walk of each word was tried: keyed by the state before the word, only 13 % of the
sample's words were found again, not worth its memory.)

Everything else — encoding, the alias columns, argmax — is py3langid's own code or a copy of it.
tests/rules/test_langid.py compares features and scores bit for bit.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any

import numpy as np
from py3langid.langid import RAW_FLOOR, LanguageIdentifier

_FEATURE_BITS = 24
_FEATURE_MASK = (1 << _FEATURE_BITS) - 1


class FastLanguageIdentifier:
    __slots__ = (
        "_aliases",
        "_classes",
        "_encode",
        "_floor",
        "_nextmove",
        "_pc",
        "_ptc",
        "_start",
        "_states",
    )

    def __init__(self, identifier: LanguageIdentifier) -> None:
        if identifier.min_confidence is not None or identifier._norm_probs:
            raise ValueError("only the raw-score identifier (norm_probs=False) is supported")
        ptc = np.ascontiguousarray(identifier.nb_ptc)
        if ptc.dtype != np.float16:
            raise ValueError(f"expected float16 weights, got {ptc.dtype}")
        self._ptc = ptc.astype(np.float32)
        self._pc = identifier.nb_pc
        self._classes = list(identifier.nb_classes)
        self._aliases = list(identifier._alias_pairs)
        self._nextmove = identifier.tk_nextmove
        # per state, its transition row's offset and its feature + 1 (0: none) in one machine
        # word: a step reads this small array instead of two lists of int objects
        rows, outputs = identifier._rowbase, identifier.tk_output
        if len(outputs) and max(outputs) + 1 >= 1 << _FEATURE_BITS:
            raise ValueError("too many features for the packed state table")
        self._states = array(
            "q", [(r << _FEATURE_BITS) | (o + 1) for r, o in zip(rows, outputs, strict=True)]
        )
        self._start = rows[0]
        self._encode = identifier._encode
        self._floor = np.full(len(self._classes), RAW_FLOOR, dtype=np.float32)

    def visits(self, data: bytes) -> Counter[int] | None:
        """py3langid's `visit_counts` over the encoded text: the same counts in the same order."""
        nextmove, states = self._nextmove, self._states
        found: list[int] = []
        row = self._start
        for letter in data:
            packed = states[nextmove[row + letter]]
            row = packed >> _FEATURE_BITS
            if packed & _FEATURE_MASK:
                found.append((packed & _FEATURE_MASK) - 1)
        return Counter(found) if found else None

    def scores(self, text: str | bytes) -> Any:
        """py3langid's `_decide(text)` for a raw-score identifier (float32 array, one per class)."""
        visits = self.visits(self._encode(text))
        if not visits:
            scores = self._floor.copy()
        else:
            idx = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
            counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
            scores = np.log1p(counts) @ self._ptc.take(idx, axis=0) + self._pc
        for i, j in self._aliases:
            scores[i] = max(scores[i], scores[j])
            scores[j] = RAW_FLOOR
        return scores

    def classify(self, text: str | bytes) -> str:
        return self._classes[int(self.scores(text).argmax())]
