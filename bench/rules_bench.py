"""Rules engine throughput: the indexed engine against checking every rule one by one with regexes.

Seeded, so every run measures the same corpus and rule sets. Single core (one Python thread).

Rule sets (N = 10, 100, 1000), generated as YAML and loaded by the real loader:
- 55 % product rules: all(one of 1-3 product names, one of 3-6 issue words), some also with a
  channel or followers condition;
- 27 % topic rules: 3-8 rare phrases (campaign hashtags, "product issue" phrases, 3-word phrases);
- 4 % generic issue rules: 1-3 common issue words, half of them AND followers >= 5000;
- 6 % words + sentiment (VADER, computed lazily only when the words are present);
- 4 % product word + regex (order numbers); 4 % product word + language (detected lazily when
  the post has no language tag);
- max(2, N/100) metadata-only rules (followers, verified, thread size, business hours, channel,
  author history) and, from N >= 100, one regex-only rule (a link shortener): these have no word
  to index, so every post evaluates them.
Corpus: 20,000 posts of 6-40 tokens mixing common English, product names, issue words, emoji,
hashtags, accented words; 10 % without a language tag; followers, thread sizes and author history
drawn from long-tailed (Pareto) distributions: most posts come from small accounts with no history.

Then the shipped rule set (rules/default.yaml) on the inbound posts of the TWCS sample
(../shared/data/twcs-sample.csv) as file replay gives them to the router: no language tag, so the
`translate` rule detects the language of every post. The sample is small, so it is evaluated in
rounds; the language and sentiment memories (rules/nlp.py) are emptied before each round, so a text
is scored once per round, as in a stream of distinct posts.

The naive evaluator checks every rule one by one, each word list as one regex, with sentiment and
language from vaderSentiment and py3langid themselves, nothing remembered between posts: the same
baseline whatever the engine does. Engine and naive are timed in turns, slice by slice, so both
see the same machine.

Measured per post: the whole `evaluate(facts, ruleset)` of the routing path (normalization, word
index scan, candidate rules, lazy sentiment/language, the Decision with the matched rules' Hits),
one post at a time with the garbage collector paused; p99 is the 99th percentile of those times.
Before timing, posts are checked against the naive approach (same matched rules, in order).
The machine may be shared: compare `ratio` (both measured in the same run) across runs.

Last line: JSON {"rules": 1000, "posts_per_s": …, "p99_us": …, "naive_posts_per_s": …,
"default_posts_per_s": …, "default_p99_us": …, "default_naive_posts_per_s": …}.
"""

from __future__ import annotations

import functools
import gc
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any as AnyType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.base import Direction, InboundPost  # noqa: E402
from channels.replay import read_twcs  # noqa: E402
from rules import nlp  # noqa: E402
from rules.cli import PACKAGED_RULES  # noqa: E402
from rules.conditions.base import Condition  # noqa: E402
from rules.conditions.logic import All, Any, Not  # noqa: E402
from rules.conditions.words import Words  # noqa: E402
from rules.engine import RuleSet, evaluate  # noqa: E402
from rules.facts import AuthorHistory, PostFacts, ThreadFacts  # noqa: E402
from rules.loader import load_ruleset  # noqa: E402
from rules.outcome import Decision  # noqa: E402
from rules.text import normalize  # noqa: E402
from rules.view import PostView  # noqa: E402

SEED = 20260304
CORPUS_SIZE = 20_000
TWCS_SAMPLE = ROOT.parent / "shared" / "data" / "twcs-sample.csv"
TWCS_ROUNDS = 100
SLICES = 20  # the engine's and the naive evaluator's timings alternate slice by slice


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMON = _words(
    "the a to and i my you is it for on of in this that was with have but not just so at be are your "
    "me we can get got today now still again really why what when how who they all out up about one "
    "day time new order app phone store team help please thanks love hate good bad great never ever "
    "week month year bought tried called waiting since yesterday morning night guys lol omg tbh"
)
ISSUES = _words(
    "broken cracked leaking late missing refund charged overcharged cancelled crash crashing frozen "
    "slow dead battery screen charger cable strap button noisy smelly stained torn wrong faulty "
    "defective scratched dented rusty expired mouldy stale spoiled lost delayed stuck error bug "
    "glitch outage offline login password locked hacked spam scam fraud fake unsafe burn smoke "
    "rash allergic sick injured lawsuit lawyer reporter journalist complaint manager supervisor "
    "invoice billing subscription renewal discount coupon voucher shipping courier tracking parcel "
    "warranty repair replacement exchange return receipt manual setup install update firmware "
    "bluetooth wifi pairing sync overheating vibration rattle squeak drain"
)
EMOTION = _words("awful terrible furious disgusted amazing brilliant fantastic gutted livid thrilled")
EMOJI = ("😡", "😍", "🔥", "👎", "👍🏽", "❤️", "🙏", "😭", "🤬", "✨")
ACCENTED = ("café", "déçu", "très", "problème", "señor", "niño", "über", "garçon", "naïve", "fiancée")
SYLLABLES = _words("ka lo mi ze tra vo qu ix nel por sa di fen gro lux ar ten by ro vi")


def product_names(rng: random.Random, count: int) -> list[str]:
    syllables = SYLLABLES
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))))
    return sorted(names)


def rare_phrases(rng: random.Random, products: list[str], count: int) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        kind = rng.random()
        if kind < 0.4:
            out.add(f"#{rng.choice(products)}{rng.choice(['fail', 'love', 'launch', 'drop', 'deal'])}")
        elif kind < 0.8:
            out.add(f"{rng.choice(products)} {rng.choice(ISSUES)}")
        else:
            out.add(f"{rng.choice(ISSUES)} {rng.choice(COMMON)} {rng.choice(ISSUES)}")
    return sorted(out)


def q(words: list[str]) -> str:
    return "[" + ", ".join(json.dumps(w, ensure_ascii=False) for w in words) + "]"


def ruleset_yaml(n: int, rng: random.Random, products: list[str], phrases: list[str]) -> str:
    meta = [
        "followers: {at_least: 100000}",
        "all: [{verified: true}, {followers: {at_least: 10000}}]",
        "replies_last_hour: {at_least: 25}",
        "business_hours: false",
        "all: [{channel: facebook}, {distinct_authors: {at_least: 8}}]",
        "any: [{open_cases: {at_least: 2}}, {cases_30d: {at_least: 5}}]",
    ]
    lines = ["version: 1", "defaults: {queue: forum, priority: normal, sla: relaxed}", "rules:"]
    special = max(2, n // 100) + (1 if n >= 100 else 0)
    for i in range(n - special):
        kind = (i * 100 // max(1, n - special)) % 100
        issues = rng.sample(ISSUES, rng.randint(3, 6))
        if kind < 55:
            extra = rng.choice(["", "", "", ", {channel: x}", ", {followers: {at_least: 1000}}"])
            names = q(rng.sample(products, rng.randint(1, 3)))
            cond = f"all: [{{words: {names}}}, {{words: {q(issues)}}}{extra}]"
        elif kind < 82:
            cond = f"words: {q(rng.sample(phrases, rng.randint(3, 8)))}"
        elif kind < 86:
            extra = rng.choice(["", ", {followers: {at_least: 5000}}"])
            cond = f"all: [{{words: {q(issues[: rng.randint(1, 3)])}}}{extra}]"
        elif kind < 92:
            cond = f"all: [{{words: {q(rng.sample(EMOTION, 2))}}}, {{sentiment: {{at_most: -0.4}}}}]"
        elif kind < 96:
            cond = rf"all: [{{words: [{rng.choice(products)}]}}, {{regex: 'order\s*#?\d{{6,}}'}}]"
        else:
            cond = f"all: [{{words: {q([rng.choice(products)])}}}, {{language: [fr, es, de]}}]"
        queue = rng.choice(["forum", "customer_service", "customer_service", "pr"])
        prio = rng.choice(["urgent", "high", "normal", "normal", "low"])
        lines.append(
            f"  - id: r{i:04d}\n    when: {{{cond}}}\n"
            f"    then: {{queue: {queue}, priority: {prio}, tags: [t{i % 50}]}}"
        )
    for j in range(special):
        cond = r"regex: 'https?://bit\.ly/\w+'" if (n >= 100 and j == special - 1) else meta[j % len(meta)]
        lines.append(f"  - id: m{j:03d}\n    when: {{{cond}}}\n    then: {{priority: high, tags: [meta]}}")
    return "\n".join(lines) + "\n"


def corpus(rng: random.Random, products: list[str], phrases: list[str]) -> list[PostFacts]:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    posts = []
    for _ in range(CORPUS_SIZE):
        words = [rng.choice(COMMON) for _ in range(rng.randint(6, 30))]
        for _ in range(rng.randint(0, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(products))
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(ISSUES))
        if rng.random() < 0.2:
            words.append(rng.choice(phrases))
        if rng.random() < 0.1:
            words.append(rng.choice(EMOTION))
        if rng.random() < 0.3:
            words.append(rng.choice(EMOJI))
        if rng.random() < 0.1:
            words.append(rng.choice(ACCENTED))
        if rng.random() < 0.05:
            words += ["order", f"#{rng.randint(100000, 999999)}"]
        text = " ".join(words)
        text = text[0].upper() + text[1:] + rng.choice([".", "!", "?", "!!", ""])
        posts.append(
            PostFacts(
                text=text,
                channel=rng.choice(["x", "x", "facebook"]),
                account="@acme",
                author_handle=f"user{rng.randint(1, 5000)}",
                created_at=start + timedelta(minutes=rng.randint(0, 7 * 24 * 60)),
                author_followers=int(rng.paretovariate(1.2) * 50),
                author_verified=rng.random() < 0.02,
                lang=None if rng.random() < 0.1 else "en",
                thread=ThreadFacts(
                    posts=min(int(rng.paretovariate(1.5)), 500),
                    distinct_authors=min(int(rng.paretovariate(2.0)), 100),
                    replies_last_hour=min(int(rng.paretovariate(1.5)) - 1, 400),
                ),
                history=AuthorHistory(
                    open_cases=int(rng.random() < 0.08) + int(rng.random() < 0.02),
                    cases_30d=min(int(rng.paretovariate(2.0)) - 1, 20),
                ),
            )
        )
    return posts


# --- The naive approach: every rule, one by one, each word list as one regex -------------------
# Sentiment and language come straight from the packages (vaderSentiment, py3langid) and are not
# remembered between posts: the baseline stays the same whatever the engine learns to do faster.


@functools.cache
def reference_models() -> tuple[AnyType, AnyType]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer(), LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


class ReferenceView(PostView):
    __slots__ = ()

    @property
    def sentiment(self) -> float:
        if self._sentiment is None:
            self._sentiment = float(reference_models()[0].polarity_scores(self.facts.text)["compound"])
        return self._sentiment

    @property
    def language(self) -> str:  # the engine's rule (rules/view.py), with py3langid itself
        if self._lang is None:
            tag = (self.facts.lang or "").strip().lower()
            if tag and tag not in ("und", "zxx", "qme", "qht", "art"):
                self._lang = tag.split("-")[0]
            elif not any(c.isalpha() for c in self.facts.text):
                self._lang = "und"
            else:
                self._lang = str(reference_models()[1].classify(self.facts.text)[0])
        return self._lang


@dataclass
class Naive:
    ruleset: RuleSet
    patterns: dict[int, re.Pattern[str]]

    @classmethod
    def build(cls, ruleset: RuleSet) -> Naive:
        patterns: dict[int, re.Pattern[str]] = {}

        def walk(c: Condition) -> None:
            if isinstance(c, Words):
                alts = "|".join(re.escape(p) for p in sorted(c.phrases, key=len, reverse=True))
                patterns[id(c)] = re.compile(rf"(?<!\w)(?:{alts})(?!\w)")
            for child in getattr(c, "children", ()):
                walk(child)
            if isinstance(c, Not):
                walk(c.child)

        for rule in ruleset.rules:
            walk(rule.when)
        return cls(ruleset, patterns)

    def check(self, c: Condition, view: PostView) -> bool:
        if isinstance(c, Words):
            return self.patterns[id(c)].search(view.text) is not None
        if isinstance(c, All):
            return all(self.check(x, view) for x in c.children)
        if isinstance(c, Any):
            return any(self.check(x, view) for x in c.children)
        if isinstance(c, Not):
            return not self.check(c.child, view)
        return c.explain(view)[0]

    def decide(self, facts: PostFacts) -> list[str]:
        view = ReferenceView(facts, normalize(facts.text), frozenset(), self.ruleset.calendar)
        matched = []
        for rule in self.ruleset.rules:
            if self.check(rule.when, view):
                matched.append(rule.id)
                if rule.then.stop:
                    break
        return matched


Timed = tuple[float, float]  # posts/s, p99 µs


def measure_turns(contestants, slices: int, before_slice=None) -> list[Timed]:  # type: ignore[no-untyped-def]
    """Time each (function, list of slices of posts) slice by slice, in turns, so that all see the
    same machine (others' load comes and goes); before_slice() runs before every timed slice."""
    for fn, chunks in contestants:  # warm up (loads VADER / langid once)
        for facts in chunks[0][:200]:
            fn(facts)
    gc.collect()
    gc.disable()
    clock = time.perf_counter_ns
    samples: list[list[int]] = [[] for _ in contestants]
    try:
        for k in range(slices):
            for (fn, chunks), out in zip(contestants, samples, strict=True):
                if before_slice is not None:
                    before_slice()
                for facts in chunks[k % len(chunks)]:
                    t0 = clock()
                    fn(facts)
                    out.append(clock() - t0)
    finally:
        gc.enable()
    return [summary(taken) for taken in samples]


def summary(samples: list[int]) -> Timed:
    samples.sort()
    return len(samples) / (sum(samples) / 1e9), samples[int(len(samples) * 0.99)] / 1000


def split(posts: list[PostFacts], parts: int) -> list[list[PostFacts]]:
    size = -(-len(posts) // parts)
    return [posts[i : i + size] for i in range(0, len(posts), size)]


def twcs_posts(direction: Direction = Direction.INBOUND) -> list[PostFacts]:
    """The sample's posts as the router sees them (file replay: no language tag)."""
    posts = []
    for post in read_twcs(TWCS_SAMPLE):
        if isinstance(post, InboundPost) and post.direction == direction:
            posts.append(
                PostFacts(
                    text=post.text,
                    channel=post.channel,
                    account=post.account,
                    author_handle=post.author.handle,
                    created_at=post.created_at,
                    author_followers=post.author.followers,
                    author_verified=post.author.verified,
                    lang=post.lang,
                )
            )
    return posts


def forget_texts() -> None:
    """Empty the per-text memories of language and sentiment (every post is scored again)."""
    for remembered in (nlp.detect_language, nlp.sentiment):
        clear = getattr(remembered, "cache_clear", None)
        if clear is not None:
            clear()


HEADER = (
    f"{'rules':>8} {'load ms':>8} {'always':>6} {'posts/s':>10} {'p99 µs':>8} {'naive posts/s':>14} "
    f"{'naive p99 µs':>12} {'ratio':>6} {'agree':>6}"
)


def row(name: str, load_ms: float, ruleset: RuleSet, rate: float, p99: float, naive_rate: float,
        naive_p99: float, agree: float) -> str:  # fmt: skip
    return (
        f"{name:>8} {load_ms:>8.0f} {len(ruleset.always_candidates):>6} {rate:>10,.0f} {p99:>8.1f} "
        f"{naive_rate:>14,.0f} {naive_p99:>12.1f} {rate / naive_rate:>5.1f}x {agree:>6.1%}"
    )


def main() -> None:
    rng = random.Random(SEED)
    products = product_names(rng, 400)
    phrases = rare_phrases(rng, products, 3000)
    posts = corpus(rng, products, phrases)
    naive_posts = posts[: CORPUS_SIZE // 4]  # the naive engine is slow; a quarter is plenty
    print(f"corpus: {len(posts)} posts (naive measured on {len(naive_posts)}); single core")
    print(HEADER)
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 100, 1000):
            path = Path(tmp) / f"rules_{n}.yaml"
            path.write_text(ruleset_yaml(n, random.Random(SEED + n), products, phrases), encoding="utf-8")
            t0 = time.perf_counter()
            ruleset = load_ruleset(path)
            load_ms = (time.perf_counter() - t0) * 1000
            naive = Naive.build(ruleset)
            agree = sum(evaluate(p, ruleset).matched == tuple(naive.decide(p)) for p in posts[:2000]) / 2000
            # the agreement check and the warm-up saw some of these posts: forget their sentiment
            # and language before timing
            (rate, p99), (naive_rate, naive_p99) = measure_turns(
                [(lambda f, rs=ruleset: evaluate(f, rs), split(posts, SLICES)),
                 (naive.decide, split(naive_posts, SLICES))],
                SLICES,
                forget_texts,
            )  # fmt: skip
            print(row(str(n), load_ms, ruleset, rate, p99, naive_rate, naive_p99, agree))
            result = {
                "rules": n,
                "posts_per_s": round(rate),
                "p99_us": round(p99, 1),
                "naive_posts_per_s": round(naive_rate),
            }
    sample = twcs_posts()
    t0 = time.perf_counter()
    ruleset = load_ruleset(PACKAGED_RULES)
    load_ms = (time.perf_counter() - t0) * 1000
    naive = Naive.build(ruleset)
    agree = sum(evaluate(p, ruleset).matched == tuple(naive.decide(p)) for p in sample) / len(sample)

    # both detect languages afresh every round (the naive evaluator with py3langid itself)
    def decide(facts: PostFacts) -> Decision:
        return evaluate(facts, ruleset)

    (rate, p99), (naive_rate, naive_p99) = measure_turns(
        [(decide, [sample]), (naive.decide, [sample])], TWCS_ROUNDS, forget_texts
    )
    print(f"default rule set ({len(ruleset.rules)} rules) on the {len(sample)} inbound TWCS sample posts, "
          f"{TWCS_ROUNDS} rounds, no language tag, per-text memories emptied every round:")  # fmt: skip
    print(row("default", load_ms, ruleset, rate, p99, naive_rate, naive_p99, agree))
    result |= {
        "default_posts_per_s": round(rate),
        "default_p99_us": round(p99, 1),
        "default_naive_posts_per_s": round(naive_rate),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
