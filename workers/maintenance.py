"""The periodic sweep: catches up on anything a lost trigger or a Redis outage left undone."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from router.db import get_engine
from router.privacy import purge_raw_payloads
from router.settings import get_settings
from router.timeutil import utcnow
from workers import audit
from workers.connection import redis_connection
from workers.queues import DEFAULT, SWEEP_INTERVAL, enqueue_once

log = logging.getLogger(__name__)


RETENTION_EVERY_SECONDS = 3600


def sweep() -> dict[str, int]:
    done = {"audit_sealed": audit.seal_pending()}
    # Retention is a scan: once an hour across all workers is plenty.
    if redis_connection().set("engage:retention:last", "1", nx=True, ex=RETENTION_EVERY_SECONDS):
        settings = get_settings()
        cutoff = utcnow() - timedelta(days=settings.raw_retention_days)
        done["raw_purged"], done["deliveries_purged"] = purge_raw_payloads(get_engine(), older_than=cutoff)
    return done


def start_sweep_ticker(stop: threading.Event) -> threading.Thread:
    """Every worker process ticks; the unique job id makes N tickers one sweep."""

    def tick() -> None:
        while not stop.wait(SWEEP_INTERVAL.total_seconds()):
            enqueue_once(DEFAULT, "maintenance-sweep", sweep)

    thread = threading.Thread(target=tick, name="sweep-ticker", daemon=True)
    thread.start()
    return thread
