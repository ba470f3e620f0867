"""PostFacts from a JSON object: the normalized post format (channels.base.InboundPost, with a
nested `author`), or flat fields, plus the facts only the router knows (thread, history)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rules.facts import AuthorHistory, PostFacts, ThreadFacts


class PostFormatError(ValueError):
    pass


def facts_from_json(data: Mapping[str, Any]) -> PostFacts:
    if not isinstance(data, Mapping):
        raise PostFormatError("a post must be a JSON object")
    author = data.get("author") if isinstance(data.get("author"), Mapping) else {}
    assert isinstance(author, Mapping)
    thread = data.get("thread") or {}
    history = data.get("history") or {}
    try:
        return PostFacts(
            text=str(data.get("text", "")),
            channel=str(data.get("channel", "x")),
            account=str(data.get("account", "@brand")),
            author_handle=str(
                author.get("handle") or data.get("author_handle") or data.get("author") or "someone"
            ),
            created_at=_when(data.get("created_at")),
            author_followers=int(
                author.get("followers", data.get("author_followers", data.get("followers", 0)))
            ),
            author_verified=bool(
                author.get("verified", data.get("author_verified", data.get("verified", False)))
            ),
            known_customer=bool(data.get("known_customer", False)),
            lang=data.get("lang") or None,
            thread=ThreadFacts(
                posts=int(thread.get("posts", 1)),
                distinct_authors=int(thread.get("distinct_authors", 1)),
                replies_last_hour=int(thread.get("replies_last_hour", 0)),
            ),
            history=AuthorHistory(
                open_cases=int(history.get("open_cases", 0)), cases_30d=int(history.get("cases_30d", 0))
            ),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise PostFormatError(f"bad post: {exc}") from exc


def _when(value: Any) -> datetime:
    if value in (None, ""):
        return datetime.now(UTC)
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise PostFormatError("created_at needs a time zone offset (e.g. 2026-11-20T10:30:00Z)")
    return when.astimezone(UTC)
