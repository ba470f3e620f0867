"""What every pager transport speaks: a Page in, a PageResult out.

A page belongs to an incident; its `dedup_key` is the incident key, so a trigger, its re-pages,
the acknowledge and the resolve all land on one incident (PagerDuty) or one thread (email).
Transports never raise for delivery problems: they answer a PageResult saying whether a retry
could help, and the caller (an RQ job) decides.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

MAX_DEDUP_KEY = 255  # PagerDuty's limit; the others follow it so keys travel unchanged
MAX_SUMMARY = 1024
_DEDUP_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


class PageAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class Severity(StrEnum):
    """PagerDuty's four levels; the other transports print them."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Page:
    dedup_key: str  # the incident key, e.g. "incident:x:1851230000000000000"
    action: PageAction
    summary: str
    severity: Severity = Severity.ERROR
    source: str = "engage-router"
    to: str | None = None  # who is paged (on-call person); None: the transport's default target
    link: str | None = None  # the case or incident in the UI
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not _DEDUP_KEY.match(self.dedup_key):
            raise ValueError(f"dedup key must be 1-{MAX_DEDUP_KEY} printable ASCII characters without spaces")
        if self.at.tzinfo is None:
            raise ValueError("Page.at must be timezone-aware")
        if not self.summary.strip():
            raise ValueError("a page needs a summary")

    @property
    def short_summary(self) -> str:
        return self.summary if len(self.summary) <= MAX_SUMMARY else self.summary[: MAX_SUMMARY - 1] + "…"

    @property
    def title(self) -> str:
        """One line for chat and mail subjects, e.g. "[TRIGGER critical] Legal threat on thread …"."""
        return f"[{self.action.upper()} {self.severity}] {self.short_summary.splitlines()[0]}"

    @property
    def idempotency_key(self) -> str:
        """The same for retries of one page, different for a re-page (new `to` or `at`)."""
        parts = "\x1f".join((self.dedup_key, self.action, self.to or "", self.at.isoformat()))
        return hashlib.sha256(parts.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PageResult:
    transport: str
    ok: bool
    dedup_key: str
    status: int | None = None  # HTTP status or SMTP reply code; None when nothing answered
    message: str = ""
    retryable: bool = False  # a failure a later attempt may get past (timeout, 429, 5xx)


@runtime_checkable
class Pager(Protocol):
    name: str

    async def send(self, page: Page) -> PageResult: ...


def retryable_http(status: int) -> bool:
    return status == 429 or status == 408 or status >= 500
