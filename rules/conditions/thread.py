"""Conditions on the conversation the post belongs to."""

from __future__ import annotations

from rules.conditions.base import NumericCondition
from rules.view import PostView


class ThreadPosts(NumericCondition):
    key = "thread_posts"
    summary = "Number of posts in the conversation so far, this one included."
    example = "thread_posts: {at_least: 10}"
    uses = "thread.posts"

    value_source = "f.thread.posts"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.thread.posts


class DistinctAuthors(NumericCondition):
    key = "distinct_authors"
    summary = "Number of different people in the conversation."
    example = "distinct_authors: {at_least: 5}"
    uses = "thread.distinct_authors"

    value_source = "f.thread.distinct_authors"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.thread.distinct_authors


class RepliesLastHour(NumericCondition):
    key = "replies_last_hour"
    summary = "Replies in the conversation during the hour before this post: a thread taking off."
    example = "replies_last_hour: {at_least: 20}"
    uses = "thread.replies_last_hour"

    value_source = "f.thread.replies_last_hour"

    @staticmethod
    def read(post: PostView) -> int:
        return post.facts.thread.replies_last_hour
