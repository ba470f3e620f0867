"""What the rules engine is given about a post; built by the router, read by conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ThreadFacts:
    posts: int = 1
    distinct_authors: int = 1
    replies_last_hour: int = 0


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    open_cases: int = 0
    cases_30d: int = 0


@dataclass(frozen=True, slots=True)
class PostFacts:
    text: str
    channel: str
    account: str
    author_handle: str
    created_at: datetime  # timezone-aware UTC
    author_followers: int = 0
    author_verified: bool = False
    known_customer: bool = False
    lang: str | None = None  # the platform's tag; the engine detects one when absent or "und"
    thread: ThreadFacts = field(default_factory=ThreadFacts)
    history: AuthorHistory = field(default_factory=AuthorHistory)
