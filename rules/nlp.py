"""Sentiment (VADER) and language detection (py3langid): both ship their models in the package,
both are loaded on first use only, so rule sets that do not ask for them never pay for them.

Sentiment is vaderSentiment's compound score computed by rules/vader.py (same number, a fraction
of the time; tests/rules/test_vader.py holds them equal)."""

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

        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


def sentiment(text: str) -> float:
    """VADER compound score: -1 (very negative) .. +1 (very positive)."""
    return float(_vader().compound(text))


def detect_language(text: str) -> str:
    """ISO 639-1 code of the most likely language; "und" for text without letters."""
    if not any(c.isalpha() for c in text):
        return "und"
    lang, _score = _langid().classify(text)
    return str(lang)
