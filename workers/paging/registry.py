"""The pager transports, in one table, built from `PAGER_*` settings. A transport without its
settings is simply not configured; paging goes to every configured one."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.paging import pagerduty
from workers.paging.base import Pager
from workers.paging.email import SmtpPager
from workers.paging.pagerduty import PagerDutyPager
from workers.paging.signed_webhook import SignedWebhookPager
from workers.paging.slack import SlackWebhookPager


class PagerSettings(BaseSettings):
    """`PAGER_*` variables (every one is masked in logs by router.settings)."""

    model_config = SettingsConfigDict(env_prefix="PAGER_", env_file=".env", extra="ignore")

    slack_webhook_url: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_url: str = Field(default=pagerduty.DEFAULT_BASE_URL, description="tests point this at the sink")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    smtp_start_tls: bool | None = None
    email_from: str | None = None
    email_to: list[str] = Field(default_factory=list, description="used when the page names no address")
    timeout_seconds: float = Field(default=10.0, gt=0)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _slack(s: PagerSettings) -> Pager | None:
    url = _secret(s.slack_webhook_url)
    return SlackWebhookPager(url, timeout=s.timeout_seconds) if url else None


def _pagerduty(s: PagerSettings) -> Pager | None:
    key = _secret(s.pagerduty_routing_key)
    return PagerDutyPager(key, base_url=s.pagerduty_url, timeout=s.timeout_seconds) if key else None


def _email(s: PagerSettings) -> Pager | None:
    if not s.smtp_host or not s.email_from:
        return None
    return SmtpPager(
        hostname=s.smtp_host,
        port=s.smtp_port,
        sender=s.email_from,
        recipients=s.email_to,
        username=s.smtp_username,
        password=_secret(s.smtp_password),
        use_tls=s.smtp_use_tls,
        start_tls=s.smtp_start_tls,
        timeout=s.timeout_seconds,
    )


def _webhook(s: PagerSettings) -> Pager | None:
    secret = _secret(s.webhook_secret)
    if not s.webhook_url or not secret:
        return None
    return SignedWebhookPager(s.webhook_url, secret, timeout=s.timeout_seconds)


TRANSPORTS: dict[str, Callable[[PagerSettings], Pager | None]] = {
    "slack": _slack,
    "pagerduty": _pagerduty,
    "email": _email,
    "webhook": _webhook,
}


def configured_pagers(settings: PagerSettings | None = None) -> list[Pager]:
    settings = settings or PagerSettings()
    return [pager for build in TRANSPORTS.values() if (pager := build(settings)) is not None]
