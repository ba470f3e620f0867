"""rules/vader.py gives vaderSentiment's compound score exactly, on a corpus that exercises every
rule VADER has (negation, boosters, caps, `but`, `no`, `least`, idioms, emoji, punctuation)."""

from __future__ import annotations

import random

import pytest
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from rules import nlp
from rules.cli import PACKAGED_RULES
from rules.loader import load_ruleset
from rules.vader import Vader

REFERENCE = SentimentIntensityAnalyzer()
FAST = Vader.packaged()

HANDPICKED = [
    "",
    "   ",
    "!!!",
    "VADER is smart, handsome, and funny.",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been this good!",
    "With VADER, sentiment analysis is the shit!",
    "On the other hand, VADER is quite bad ass",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "no no no good bad",
    "no problem or nor worse",
    "😡😡 awful😍great 🔥",
    "The app is BROKEN again?? furious 😭",
    "but but good but bad good good",
    "good good but bad bad",
    "déçu très problème, terrible!!!!!",
    "yeah right, the bomb kiss of death to die for",
]


def words(text: str) -> list[str]:
    return text.split()


def corpus(size: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lexicon = sorted(REFERENCE.lexicon)
    emoji = sorted(e for e in REFERENCE.emojis if len(e) == 1)
    modifiers = " ".join([*SPECIAL_CASES, *BOOSTER_DICT]).split() + NEGATE
    shifters = words("but no least at very kind of never so this without doubt or nor")
    plain = words("the a to and i my you it is order app phone refund today")
    marks = ["", "!", "?", "!!", "??", "???", "!!!!!", ",", ".", ":)", "...", "?!", "'"]
    texts = []
    for _ in range(size):
        tokens = []
        for _ in range(rng.randint(0, 25)):
            pool = rng.choice((lexicon, modifiers, shifters, plain, plain))
            word = rng.choice(pool)
            shape = rng.random()
            if shape < 0.1:
                word = word.upper()
            elif shape < 0.15:
                word = word.capitalize()
            if rng.random() < 0.15:
                word += rng.choice(marks)
            if rng.random() < 0.05:
                word = rng.choice(marks) + word
            if rng.random() < 0.05:
                word = rng.choice(emoji) + (word if rng.random() < 0.5 else "")
            tokens.append(word)
        text = rng.choice([" ", " ", "  ", "\t", " \u00a0"]).join(tokens) + rng.choice(marks)
        texts.append(f" {text} " if rng.random() < 0.1 else text)
    return texts


def example_texts() -> list[str]:
    ruleset = load_ruleset(PACKAGED_RULES)
    return [example.facts.text for rule in ruleset.rules for example in rule.examples]


def same(text: str) -> bool:
    # repr: the same float, down to the sign of a zero (explanations print it)
    return repr(FAST.compound(text)) == repr(REFERENCE.polarity_scores(text)["compound"])


@pytest.mark.parametrize("text", HANDPICKED)
def test_handpicked_sentences_score_the_same(text: str) -> None:
    assert same(text)


def test_generated_corpus_scores_the_same() -> None:
    texts = corpus(4000, seed=7) + example_texts()
    wrong = [t for t in texts if not same(t)]
    assert wrong == []


def test_the_engine_uses_it() -> None:
    text = "The app is BROKEN again?? furious 😭"
    assert nlp.sentiment(text) == REFERENCE.polarity_scores(text)["compound"]


def test_sentiment_is_remembered_per_text(monkeypatch) -> None:
    calls: list[str] = []

    class Counting:
        def compound(self, text: str) -> float:
            calls.append(text)
            return FAST.compound(text)

    monkeypatch.setattr(nlp, "_vader", lambda: Counting())
    nlp.sentiment.cache_clear()
    text = "This is awful, worst service ever"
    assert [nlp.sentiment(text) for _ in range(3)] == [REFERENCE.polarity_scores(text)["compound"]] * 3
    assert nlp.sentiment("Love it, thanks!") > 0
    assert calls == [text, "Love it, thanks!"]
    nlp.sentiment.cache_clear()
