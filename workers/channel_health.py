"""Channels must never die silently: a configured channel with no successful poll and no webhook
delivery for longer than its silence threshold raises `channel.silent` (an audit event and an
ERROR log line, once per silence episode) and shows in /readyz; hearing from it again ends the
episode (`channel.recovered`).

Evidence of life: a poller checkpoint saved after a successful fetch (checkpoints.updated_at; a
checkpoint saved while backing off, which carries `not_before`, is not), or a stored webhook
delivery (inbox_events.received_at). Episode state lives in Redis; losing it costs at most one
repeated alert.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from router import audit
from router.models import Checkpoint, InboxEvent
from router.settings import Settings
from router.timeutil import utcnow

log = logging.getLogger(__name__)

STATE_KEY = "engage:channel-health:{}:{}"  # (channel, "silent" | "since")
INGEST_PREFIX = "INGEST_SECRET_"


class ChannelHealthSettings(BaseSettings):
    """`CHANNEL_SILENCE_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CHANNEL_SILENCE_", env_file=".env", extra="ignore")

    minutes: float = Field(default=60.0, gt=0, description="silence longer than this raises channel.silent")
    overrides: dict[str, float] = Field(default_factory=dict, description='per channel, e.g. {"x": 15}')

    def threshold(self, channel: str) -> timedelta:
        return timedelta(minutes=self.overrides.get(channel, self.minutes))


@dataclass(frozen=True)
class Evidence:
    """Where a channel's signs of life are found."""

    channel: str
    checkpoint_prefix: str | None  # poller checkpoints (keys starting with this)
    inbox_source: str | None  # webhook deliveries


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    last_seen: datetime | None
    threshold: timedelta
    silent: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": not self.silent,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "threshold_minutes": self.threshold.total_seconds() / 60,
        }


def configured_channels(settings: Settings) -> list[Evidence]:
    x, fb = settings.x, settings.facebook
    found: list[Evidence] = []
    if x.bearer_token or x.consumer_secret:
        polls = bool(x.bearer_token and (x.search_queries or x.brand_accounts))
        found.append(Evidence("x", "x:" if polls else None, "x" if x.consumer_secret else None))
    if fb.page_token or fb.app_secret:
        found.append(
            Evidence(
                "facebook", "facebook:" if fb.page_token else None, "facebook" if fb.app_secret else None
            )
        )
    for name, value in sorted(os.environ.items()):
        if name.startswith(INGEST_PREFIX) and value:
            source = name.removeprefix(INGEST_PREFIX).lower()
            found.append(Evidence(f"ingest:{source}", None, f"ingest:{source}"))
    return found


def last_seen(session: Session, evidence: Evidence) -> datetime | None:
    times: list[datetime] = []
    if evidence.checkpoint_prefix:
        rows = session.exec(
            select(Checkpoint.key, Checkpoint.value, Checkpoint.updated_at).where(
                col(Checkpoint.key).startswith(evidence.checkpoint_prefix)
            )
        ).all()
        times += [
            at for key, value, at in rows if not key.endswith(":not_before") and "not_before" not in value
        ]
    if evidence.inbox_source:
        received = session.exec(
            select(func.max(InboxEvent.received_at)).where(
                InboxEvent.source.in_([evidence.inbox_source, evidence.inbox_source.replace("_", "-")])  # type: ignore[attr-defined]
            )
        ).one()
        if received is not None:
            times.append(received)
    return max(times, default=None)


def channel_statuses(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    config: ChannelHealthSettings | None = None,
    watching_since: dict[str, datetime] | None = None,
) -> list[ChannelStatus]:
    """Each configured channel, silent or not. A channel never heard from is measured from when
    we started watching it (`watching_since`, default now), so a fresh install does not alarm."""
    now = now or utcnow()
    config = config or ChannelHealthSettings()
    out = []
    with Session(engine) as session:
        for evidence in configured_channels(settings):
            seen = last_seen(session, evidence)
            baseline = seen or (watching_since or {}).get(evidence.channel, now)
            threshold = config.threshold(evidence.channel)
            out.append(ChannelStatus(evidence.channel, seen, threshold, now - baseline > threshold))
    return out


def check_channels(
    engine: Engine,
    settings: Settings,
    conn: redis.Redis,
    *,
    now: datetime | None = None,
    config: ChannelHealthSettings | None = None,
) -> list[str]:
    """The sweep's check: alert once per silence episode. Returns the channels alerted now."""
    now = now or utcnow()
    channels = [e.channel for e in configured_channels(settings)]
    since: dict[str, datetime] = {}
    for channel in channels:  # when we started watching: the baseline for a channel never heard from
        key = STATE_KEY.format(channel, "since")
        conn.set(key, now.isoformat(), nx=True)
        raw = conn.get(key)
        since[channel] = datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
    alerted = []
    for status in channel_statuses(engine, settings, now=now, config=config, watching_since=since):
        flag = STATE_KEY.format(status.channel, "silent")
        if status.silent:
            if conn.set(flag, now.isoformat(), nx=True):
                _record(engine, "channel.silent", status, now)
                log.error(
                    "channel %s is silent: no successful poll or delivery since %s (threshold %s min)",
                    status.channel,
                    status.last_seen.isoformat() if status.last_seen else "we started watching",
                    status.threshold.total_seconds() / 60,
                )
                alerted.append(status.channel)
        elif conn.delete(flag):
            _record(engine, "channel.recovered", status, now)
            log.warning("channel %s delivers again (last seen %s)", status.channel, status.last_seen)
    return alerted


def _record(engine: Engine, action: str, status: ChannelStatus, now: datetime) -> None:
    with Session(engine) as session:
        audit.record(
            session,
            action=action,
            at=now,
            channel=status.channel,
            last_seen=status.last_seen.isoformat() if status.last_seen else None,
            threshold_minutes=status.threshold.total_seconds() / 60,
        )
        session.commit()
