"""Channel configuration, read from the environment (or `.env`). Secrets are SecretStr: masked in reprs."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

X_DEFAULT_BASE_URL = "https://api.twitter.com"
FACEBOOK_DEFAULT_GRAPH_URL = "https://graph.facebook.com/"


class XSettings(BaseSettings):
    """`X_*` variables. Reads use the app bearer token; replies use the four OAuth 1.0a user keys."""

    model_config = SettingsConfigDict(env_prefix="X_", env_file=".env", extra="ignore")

    api_base_url: str = Field(default=X_DEFAULT_BASE_URL, description="tests point this at the fake")
    bearer_token: SecretStr | None = None
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = Field(default=None, description="CRC and webhook signatures")
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    # handle -> numeric user id of each brand account, e.g. X_BRAND_ACCOUNTS='{"acme": "783214"}'
    brand_accounts: dict[str, str] = Field(default_factory=dict)
    # recent-search queries, e.g. X_SEARCH_QUERIES='["acme -is:retweet", "\"acme air\""]'
    search_queries: list[str] = Field(default_factory=list)
    max_results: int = Field(default=100, ge=10, le=100)
    max_pages_per_poll: int = Field(default=10, ge=1, le=1000)
    timeout_seconds: float = Field(default=30.0, gt=0)


class FacebookSettings(BaseSettings):
    """`FACEBOOK_*` variables for one Page."""

    model_config = SettingsConfigDict(env_prefix="FACEBOOK_", env_file=".env", extra="ignore")

    graph_url: str = Field(default=FACEBOOK_DEFAULT_GRAPH_URL, description="tests point this at the fake")
    graph_version: str = Field(default="v24.0", pattern=r"^v\d+\.\d+$")
    page_id: str | None = None
    page_name: str | None = Field(default=None, description="the `account` of normalized posts")
    page_token: SecretStr | None = None
    app_secret: SecretStr | None = Field(default=None, description="X-Hub-Signature-256 key")
    verify_token: SecretStr | None = Field(default=None, description="GET handshake hub.verify_token")
    poll_recent_posts: int = Field(default=25, ge=1, le=100, description="posts whose comments are polled")
    throttle_backoff_seconds: float = Field(default=300.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)


class ChannelConfig(Protocol):
    """What adapters are built from: the router's one settings object satisfies it."""

    @property
    def x(self) -> XSettings: ...

    @property
    def facebook(self) -> FacebookSettings: ...
