"""A channel that stops delivering raises channel.silent once per silence episode, and shows in /readyz."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from channels.settings import FacebookSettings, XSettings
from router.models import AuditEvent, Checkpoint, InboxEvent
from router.ops import _readiness
from router.settings import Settings
from router.timeutil import utcnow
from workers.channel_health import ChannelHealthSettings, channel_statuses, check_channels

HOUR = timedelta(hours=1)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("INGEST_SECRET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INGEST_SECRET_REVIEWS", "s3cret")
    return Settings(
        _env_file=None,
        x=XSettings(
            _env_file=None,
            bearer_token=SecretStr("b"),
            consumer_secret=SecretStr("c"),
            search_queries=["acme"],
        ),
        facebook=FacebookSettings(_env_file=None),
    )


CONFIG = ChannelHealthSettings(_env_file=None, minutes=60, overrides={"ingest:reviews": 45})


def _events(engine: Any, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))
        )


def _deliver(engine: Any, source: str, at: Any) -> None:
    with Session(engine) as s:
        s.add(
            InboxEvent(source=source, delivery_key=f"{source}-{at.timestamp()}", body=b"{}", received_at=at)
        )
        s.commit()


def _checkpoint(engine: Any, key: str, value: str, at: Any) -> None:
    with Session(engine) as s:
        row = s.get(Checkpoint, key) or Checkpoint(key=key, value=value)
        row.value, row.updated_at = value, at
        s.add(row)
        s.commit()


def test_silent_channel_alerts_once_per_episode(engine, redis_conn, settings, caplog) -> None:
    now = utcnow()
    _deliver(engine, "x", now - 2 * HOUR)
    _checkpoint(engine, "x:search:acme", '{"since_id": "5"}', now - 2 * HOUR)
    _deliver(engine, "ingest:reviews", now - timedelta(minutes=5))
    with caplog.at_level(logging.ERROR, logger="workers.channel_health"):
        assert check_channels(engine, settings, redis_conn, now=now, config=CONFIG) == ["x"]
    assert any("channel x is silent" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    for minutes in (1, 30, 90):  # later sweeps in the same episode stay quiet
        later = now + timedelta(minutes=minutes)
        assert check_channels(engine, settings, redis_conn, now=later, config=CONFIG) == (
            ["ingest:reviews"] if minutes == 90 else []
        )
    (silent_x, silent_reviews) = _events(engine, "channel.silent")
    assert silent_x.details["channel"] == "x" and silent_x.details["threshold_minutes"] == 60
    assert silent_reviews.details["channel"] == "ingest:reviews"

    # X delivers again: the episode ends; a new silence is a new episode with a new alert
    _deliver(engine, "x", now + 2 * HOUR)
    assert check_channels(engine, settings, redis_conn, now=now + 2 * HOUR, config=CONFIG) == []
    assert [e.details["channel"] for e in _events(engine, "channel.recovered")] == ["x"]
    assert check_channels(engine, settings, redis_conn, now=now + 4 * HOUR, config=CONFIG) == ["x"]
    assert len(_events(engine, "channel.silent")) == 3


def test_a_poller_backing_off_is_not_a_sign_of_life(engine, redis_conn, settings) -> None:
    now = utcnow()
    _checkpoint(engine, "x:search:acme", '{"since_id": "5"}', now - 3 * HOUR)
    _checkpoint(engine, "x:mentions:1", '{"since_id": "7", "not_before": "later"}', now)  # failing polls
    statuses = {s.channel: s for s in channel_statuses(engine, settings, now=now, config=CONFIG)}
    assert statuses["x"].silent and statuses["x"].last_seen is not None
    assert statuses["x"].last_seen < now - 2 * HOUR
    _checkpoint(engine, "x:mentions:1", '{"since_id": "8"}', now)  # a successful poll
    statuses = {s.channel: s for s in channel_statuses(engine, settings, now=now, config=CONFIG)}
    assert not statuses["x"].silent


def test_a_channel_never_heard_from_is_measured_from_when_we_started_watching(
    engine, redis_conn, settings
) -> None:
    now = utcnow()
    assert check_channels(engine, settings, redis_conn, now=now, config=CONFIG) == []  # fresh install
    assert sorted(check_channels(engine, settings, redis_conn, now=now + 2 * HOUR, config=CONFIG)) == [
        "ingest:reviews",
        "x",
    ]


def test_unconfigured_channels_are_not_watched(engine, redis_conn, settings) -> None:
    statuses = channel_statuses(engine, settings, config=CONFIG)
    assert sorted(s.channel for s in statuses) == ["ingest:reviews", "x"]  # no Facebook settings


def test_readiness_reports_each_channel(engine, redis_conn, settings) -> None:
    _deliver(engine, "ingest:reviews", utcnow())

    class Svc:
        pass

    svc = Svc()
    svc.engine, svc.settings = engine, settings  # type: ignore[attr-defined]
    _, checks = _readiness(svc)
    assert checks["channels"]["ingest:reviews"]["ok"] is True
    assert checks["channels"]["ingest:reviews"]["last_seen"] is not None
    assert set(checks["channels"]) == {"ingest:reviews", "x"}
