"""Prometheus metrics: counters the pipeline bumps, and gauges read from the database at scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from router.models import OPEN_STATUSES, Case, Checkpoint, InboxEvent

REGISTRY = CollectorRegistry(auto_describe=True)

POSTS_INGESTED = Counter(
    "engage_posts_ingested_total",
    "Posts stored, by channel and direction",
    ["channel", "direction"],
    registry=REGISTRY,
)
ROUTING_SECONDS = Histogram(
    "engage_routing_seconds",
    "Time to evaluate the rules for one post",
    registry=REGISTRY,
    buckets=(0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05),
)
DEAD_LETTERS = Counter(
    "engage_dead_letters_total", "Inputs kept in dead-letter, by source kind", ["source"], registry=REGISTRY
)
SLA_BREACHES = Counter(
    "engage_sla_breaches_total",
    "SLA breaches detected, by queue and clock",
    ["queue", "clock"],
    registry=REGISTRY,
)
PAGES = Counter(
    "engage_pages_total", "Pages sent, by transport and outcome", ["transport", "outcome"], registry=REGISTRY
)


class DatabaseGauges(Collector):
    """Queue depth and channel lag, read when Prometheus scrapes (cheap, indexed queries)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("engage_queue_depth", "Open cases per queue", labels=["queue"])
        lag = GaugeMetricFamily(
            "engage_channel_last_activity_timestamp_seconds",
            "When each channel last delivered or was polled successfully",
            labels=["source"],
        )
        with Session(self._engine) as session:
            rows = session.exec(
                select(Case.queue, func.count(col(Case.id)))
                .where(col(Case.status).in_([s.value for s in OPEN_STATUSES]))
                .group_by(col(Case.queue))
            ).all()
            for queue, count in rows:
                depth.add_metric([queue], count)
            for source, at in session.exec(
                select(InboxEvent.source, func.max(InboxEvent.received_at)).group_by(col(InboxEvent.source))
            ).all():
                lag.add_metric([f"webhook:{source}"], at.timestamp())
            for key, at in session.exec(select(Checkpoint.key, Checkpoint.updated_at)).all():
                lag.add_metric([f"poll:{key}"], at.timestamp())
        yield depth
        yield lag


def register_database_gauges(engine: Engine) -> None:
    for collector in list(REGISTRY._collector_to_names):  # one per process, even across app rebuilds
        if isinstance(collector, DatabaseGauges):
            REGISTRY.unregister(collector)
    REGISTRY.register(DatabaseGauges(engine))


def exposition() -> bytes:
    return generate_latest(REGISTRY)
