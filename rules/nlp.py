"""Sentiment (VADER) and language detection (py3langid): both ship their models in the package,
both are loaded on first use only, so rule sets that do not ask for them never pay for them.

Sentiment is vaderSentiment's compound score computed by rules/vader.py (same number, a fraction
of the time; tests/rules/test_vader.py holds them equal). Language is py3langid's answer computed
by rules/langid.py (same scores, 1.5-3 times faster; tests/rules/test_langid.py), and
remembered, like sentiment, for the last few thousand texts: the same text (a retweet, a copy-paste,
a replay, a post re-routed when its thread changes) is scored and detected once."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _vader() -> Any:
    with _lock:
        from rules.vader import Vader

        return Vader.packaged()


@lru_cache(maxsize=1)
def _langid() -> Any:
    with _lock:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        from rules.langid import FastLanguageIdentifier

        return FastLanguageIdentifier(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False))


@lru_cache(maxsize=4096)
def sentiment(text: str) -> float:
    """VADER compound score: -1 (very negative) .. +1 (very positive)."""
    return float(_vader().compound(text))


@lru_cache(maxsize=4096)
def detect_language(text: str) -> str:
    """ISO 639-1 code of the most likely language; "und" for text without letters."""
    if not any(c.isalpha() for c in text):
        return "und"
    return str(_langid().classify(text))
