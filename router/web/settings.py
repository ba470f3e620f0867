"""Settings of the queue UI and API (`QUEUE_*` variables), read once per app."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class QueueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUEUE_", env_file=".env", extra="ignore")

    lease_seconds: int = Field(default=600, ge=10, description="a claim returns to the queue after this idle")
    session_hours: int = Field(default=12, ge=1)
    cookie_secure: bool = Field(default=True, description="only ever false for local plain-HTTP debugging")
    push_assignment: bool = Field(default=False, description="assign new cases round-robin")
    live_poll_seconds: float = Field(default=1.0, gt=0, description="how often the change feed looks")
    presence_ttl_seconds: float = Field(default=30.0, gt=0)
    counts_cache_seconds: float = Field(default=2.0, ge=0, description="header counts are reused this long")


QUEUE_SETTINGS = web.AppKey("queue_settings", QueueSettings)
