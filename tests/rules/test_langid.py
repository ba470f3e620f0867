"""rules/langid.py gives py3langid's scores bit for bit, so the `language` condition decides as before."""

from __future__ import annotations

import csv

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from rules import nlp
from tests.conftest import TWCS_SAMPLE

REFERENCE = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
FAST = nlp._langid()

HANDPICKED = [
    "",
    "!!!",
    "Where is my order",
    "WHERE IS MY ORDER",  # all capitals: py3langid lowers them first
    "Bonjour, ma commande n'est toujours pas arrivée",
    "Je veux être remboursé ou mon argent, REFUND now",
    "¿Dónde está mi pedido? Llevo dos semanas esperando",
    "Wo ist meine Bestellung? Seit zwei Wochen nichts",
    "Dov'è il mio ordine?",
    "我的订单在哪里",
    "注文はどこですか",
    "Где мой заказ?",
    "😡😡😡",
    "@AcmeHelp Yep",
    "cafe\u0301 vs caf\u00e9",  # NFC folds the first into the second
    "lone surrogate \ud800 in the text",
    "  two  spaces, a trailing one ",
    " ",
]


def twcs_texts() -> list[str]:
    with TWCS_SAMPLE.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def features(text: str | bytes) -> list[tuple[int, int]] | None:
    """(feature, count) in the order py3langid sums them."""
    found = FAST.visits(REFERENCE._encode(text))
    return None if found is None else list(found.items())


def reference_features(text: str | bytes) -> list[tuple[int, int]] | None:
    found = visit_counts(
        REFERENCE.tk_nextmove, REFERENCE._rowbase, REFERENCE.tk_output, REFERENCE._encode(text)
    )
    return None if found is None else list(found.items())


def same(text: str | bytes) -> bool:
    return (
        features(text) == reference_features(text)
        and REFERENCE._decide(text).tobytes() == FAST.scores(text).tobytes()
    )


def test_scores_are_py3langids_bit_for_bit_on_handpicked_and_sample_texts() -> None:
    texts = HANDPICKED + twcs_texts()
    assert len(texts) > 100
    assert [t for t in texts if not same(t)] == []
    assert [REFERENCE.classify(t)[0] for t in texts] == [FAST.classify(t) for t in texts]


def test_languages_are_told_apart() -> None:
    assert [FAST.classify(t) for t in HANDPICKED[4:12]] == ["fr", "fr", "es", "de", "it", "zh", "ja", "ru"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_scores_are_py3langids_bit_for_bit_on_any_text(text: str | bytes) -> None:
    assert same(text)


def test_detection_is_remembered_per_text(monkeypatch) -> None:
    calls: list[str] = []
    real = FAST.classify

    class Counting:
        def classify(self, text: str) -> str:
            calls.append(text)
            return real(text)

    monkeypatch.setattr(nlp, "_langid", lambda: Counting())
    nlp.detect_language.cache_clear()
    text = "Ma commande n'est toujours pas arrivée, ça fait deux semaines"
    assert [nlp.detect_language(text) for _ in range(3)] == ["fr", "fr", "fr"]
    assert nlp.detect_language("Still waiting for my order, two weeks now") == "en"
    assert len(calls) == 2
    nlp.detect_language.cache_clear()
