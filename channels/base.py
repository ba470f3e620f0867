"""What every channel adapter produces and implements; the router knows nothing else of platforms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
