"""What every channel adapter produces and implements; the router knows nothing else of platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Direction(StrEnum):
    INBOUND = "inbound"  # written by a customer or the public
    OUTBOUND = "outbound"  # written by the brand: our reply


class Author(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    handle: str = Field(min_length=1, max_length=200)
    platform_user_id: str | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=300)
    followers: int = Field(default=0, ge=0, le=10**12)
    verified: bool = False


class InboundPost(BaseModel):
    """One normalized public post, whatever channel it came from.

    This is also the documented JSONL replay format and the body of the generic signed webhook.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")
    platform_id: str = Field(min_length=1, max_length=200)
    account: str = Field(min_length=1, max_length=200, description="brand handle or page addressed")
    author: Author
    text: str = Field(default="", max_length=100_000)
    lang: str | None = Field(default=None, max_length=16)
    created_at: datetime
    url: str | None = Field(default=None, max_length=2000)
    in_reply_to: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)
    direction: Direction = Direction.INBOUND
    removed: bool = False
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created_at needs a time zone offset (e.g. 2026-11-20T10:30:00Z)")
        return value.astimezone(UTC)


class WebhookRejected(Exception):
    """A webhook delivery we refuse; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ChannelAdapter(Protocol):
    """The one interface every channel implements. Only the parts a platform offers are used."""

    name: str

    def normalize(self, payload: Mapping[str, Any]) -> Sequence[InboundPost]:
        """Turn one platform payload (event, API page, file row) into normalized posts."""
        ...


# --- Added for polling and replying channels (channels/x.py, channels/facebook.py) -------------


class ChannelError(Exception):
    """A platform call failed; `retryable` tells the caller whether a later attempt can succeed."""

    retryable: bool = False


class RateLimited(ChannelError):
    """The platform refused for now (429, throttle code); try again no earlier than `retry_at`."""

    retryable = True

    def __init__(self, retry_at: datetime, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry at {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.reason = reason


class ChannelUnavailable(ChannelError):
    """A transient failure (5xx, timeout, connection refused)."""

    retryable = True


class ReplyRejected(ChannelError):
    """The platform refused the reply for good (4xx other than rate limits)."""


class CheckpointStore(Protocol):
    """Durable key -> value memory of how far each poll got. The router implements it on the DB."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


PostSink = Callable[[Sequence[InboundPost]], Awaitable[None]]
"""Receives each batch of polled posts; a checkpoint advances only after the sink returned."""


@dataclass(frozen=True)
class PollReport:
    posts: int = 0
    retry_at: datetime | None = None  # earliest time a rate-limited or failing source may be polled
    errors: tuple[str, ...] = ()


class PollingAdapter(ChannelAdapter, Protocol):
    async def poll(self, sink: PostSink) -> PollReport: ...

    async def aclose(self) -> None: ...


class ReplyingAdapter(ChannelAdapter, Protocol):
    async def reply(
        self, in_reply_to_platform_id: str, text: str, *, conversation_id: str | None = None
    ) -> str:
        """Publish `text` as a reply; returns the platform id of the created post."""
        ...
