"""The rule set's word index: every phrase of every `words` condition in one Aho-Corasick automaton.

One pass over the normalized post finds the phrases present as whole words (an alphanumeric end of
a phrase touches no other letter or digit) and the rules they make candidates: a rule is a
candidate when one of its trigger phrases (rules/conditions `trigger_phrases`) is present, so a
post only touches the rules it can match. (Splitting the post into runs of letters and digits and
looking them up in a dictionary was measured slower: the regex alone costs more than the scan.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import ahocorasick


class WordIndex:
    __slots__ = ("_automaton",)

    def __init__(self, phrases: Iterable[str], triggers: Mapping[str, Sequence[int]]) -> None:
        automaton = ahocorasick.Automaton()
        for phrase in phrases:
            # (phrase, length - 1, rules it triggers, whether each end must sit on a word boundary)
            rules = tuple(triggers.get(phrase, ()))
            automaton.add_word(
                phrase, (phrase, len(phrase) - 1, rules, phrase[0].isalnum(), phrase[-1].isalnum())
            )
        automaton.make_automaton()
        self._automaton = automaton

    def scan(self, text: str) -> tuple[set[str], set[int]]:
        """The phrases present in the normalized text as whole words, and the rules they make
        candidates."""
        found: set[str] = set()
        triggered: set[int] = set()
        if not text:
            return found, triggered
        last = len(text) - 1
        for end, (phrase, back, rules, bound_start, bound_end) in self._automaton.iter(text):
            if bound_start:
                start = end - back
                if start and text[start - 1].isalnum():
                    continue
            if bound_end and end < last and text[end + 1].isalnum():
                continue
            found.add(phrase)
            triggered.update(rules)
        return found, triggered
