"""Conditions on where a post was made and what it says overall: channel, account, language,
sentiment."""

from __future__ import annotations

from typing import Self

from yaml.nodes import Node

from rules.compiler import Constants
from rules.conditions.base import Condition, NumericCondition
from rules.nodes import Reader
from rules.view import PostView


class _OneOf(Condition):
    """The post's value is one of a list (case-insensitive)."""

    def __init__(self, values: frozenset[str]) -> None:
        self.values = values

    @classmethod
    def parse(cls, node: Node, reader: Reader) -> Self | None:
        values = reader.texts(node, f"`{cls.key}`")
        return None if values is None else cls(frozenset(cls.clean(v) for v in values))

    @staticmethod
    def clean(value: str) -> str:
        return value.strip().lower()

    def value(self, post: PostView) -> str:
        raise NotImplementedError

    value_source: str

    def source(self, k: Constants) -> str:
        return f"({self.value_source} in {k.add(self.values)})"

    def explain(self, post: PostView) -> tuple[bool, str]:
        value = self.value(post)
        ok = value in self.values
        return ok, f"{self.key} is {value!r}" + ("" if ok else f", not one of {sorted(self.values)}")


class Channel(_OneOf):
    key = "channel"
    summary = "The channel the post came from (x, facebook, ...); one name or a list."
    example = "channel: [x, facebook]"
    uses = "channel"

    value_source = "f.channel.lower()"

    def value(self, post: PostView) -> str:
        return post.facts.channel.lower()


class Account(_OneOf):
    key = "account"
    summary = "The brand account or page addressed; one or a list, case-insensitive, '@' optional."
    example = 'account: ["@acme_help", "@acme"]'
    uses = "account"

    @staticmethod
    def clean(value: str) -> str:
        return value.strip().lower().lstrip("@")

    value_source = "f.account.lower().lstrip('@')"

    def value(self, post: PostView) -> str:
        return post.facts.account.lower().lstrip("@")


class Language(_OneOf):
    key = "language"
    summary = (
        "The post's language (ISO 639-1): the platform's tag, else detected from the text "
        "(py3langid, only when a rule needs it)."
    )
    example = "language: [fr, de]"
    uses = "lang, text"
    cost = 5

    @staticmethod
    def clean(value: str) -> str:
        return value.strip().lower().split("-")[0]

    value_source = "v.language"

    def value(self, post: PostView) -> str:
        return post.language


class Sentiment(NumericCondition):
    key = "sentiment"
    summary = (
        "VADER compound sentiment of the text, -1 (very negative) to +1 (very positive); "
        "computed only when a rule needs it."
    )
    example = "sentiment: {at_most: -0.5}"
    uses = "text"
    cost = 5
    value_source = "v.sentiment"

    @staticmethod
    def read(post: PostView) -> float:
        return post.sentiment
