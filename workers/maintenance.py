"""The periodic sweep: catches up on anything a lost trigger or a Redis outage left undone."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from router.db import get_engine
from router.privacy import purge_raw_payloads
from router.settings import get_settings
from router.timeutil import utcnow
from workers import audit, timers
from workers.channel_health import check_channels
from workers.connection import redis_connection
from workers.queues import DEFAULT, SWEEP_INTERVAL, enqueue_once

log = logging.getLogger(__name__)


RETENTION_EVERY_SECONDS = 3600


MOVE_EVERY_SECONDS = 0.2  # SLA timers run at most this late (plus the queue)
RESCUE_EVERY_SECONDS = 2.0


def sweep() -> dict[str, int]:
    done = {"audit_sealed": audit.seal_pending(), "timers_recreated": timers.sweep_timers()}
    done["channels_silent"] = len(check_channels(get_engine(), get_settings(), redis_connection()))
    # Retention is a scan: once an hour across all workers is plenty.
    if redis_connection().set("engage:retention:last", "1", nx=True, ex=RETENTION_EVERY_SECONDS):
        settings = get_settings()
        cutoff = utcnow() - timedelta(days=settings.raw_retention_days)
        done["raw_purged"], done["deliveries_purged"] = purge_raw_payloads(get_engine(), older_than=cutoff)
    return done


def start_sweep_ticker(stop: threading.Event) -> threading.Thread:
    """Every worker process ticks: it moves due SLA timers several times a second, rescues overdue
    paging jobs every two seconds, and asks for the sweep; the unique job id makes N tickers one
    sweep."""

    def tick() -> None:
        since_rescue = since_sweep = 0.0
        failing = False
        while not stop.wait(MOVE_EVERY_SECONDS):
            since_rescue += MOVE_EVERY_SECONDS
            since_sweep += MOVE_EVERY_SECONDS
            try:  # the ticker is a loop boundary: log (once per outage) and keep ticking
                timers.enqueue_due()
                if since_rescue >= RESCUE_EVERY_SECONDS:
                    since_rescue = 0.0
                    timers.rescue_overdue()  # a scheduler lock left by a killed worker
                failing = False
            except Exception:
                if not failing:
                    log.exception("moving due timers failed")
                failing = True
            if since_sweep >= SWEEP_INTERVAL.total_seconds():
                since_sweep = 0.0
                enqueue_once(DEFAULT, "maintenance-sweep", sweep)

    thread = threading.Thread(target=tick, name="sweep-ticker", daemon=True)
    thread.start()
    return thread
