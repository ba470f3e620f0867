"""Conditions on the author: audience, verification, whether we know them, their history."""

from __future__ import annotations

from rules.conditions.base import FlagCondition, NumericCondition
from rules.view import PostView


class Followers(NumericCondition):
    key = "followers"
    summary = "The author's follower count."
    example = "followers: {at_least: 100000}"
    uses = "author_followers"

    value_source = "f.author_followers"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.author_followers


class Verified(FlagCondition):
    key = "verified"
    summary = "Whether the platform marks the author as verified."
    example = "verified: true"
    uses = "author_verified"

    value_source = "f.author_verified"

    @staticmethod
    def read(post: PostView) -> bool:
        return post.facts.author_verified


class KnownCustomer(FlagCondition):
    key = "known_customer"
    summary = "Whether the author has had a case with us before."
    example = "known_customer: true"
    uses = "known_customer"

    value_source = "f.known_customer"

    @staticmethod
    def read(post: PostView) -> bool:
        return post.facts.known_customer


class OpenCases(NumericCondition):
    key = "open_cases"
    summary = "How many other cases of this author are open now."
    example = "open_cases: {at_least: 1}"
    uses = "history.open_cases"

    value_source = "f.history.open_cases"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.history.open_cases


class Cases30d(NumericCondition):
    key = "cases_30d"
    summary = "How many other cases this author opened in the last 30 days."
    example = "cases_30d: {at_least: 3}"
    uses = "history.cases_30d"

    value_source = "f.history.cases_30d"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.history.cases_30d
