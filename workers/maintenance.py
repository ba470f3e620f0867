"""The periodic sweep: catches up on anything a lost trigger or a Redis outage left undone."""

from __future__ import annotations

import logging
import threading

from workers import audit
from workers.queues import DEFAULT, SWEEP_INTERVAL, enqueue_once

log = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    return {"audit_sealed": audit.seal_pending()}


def start_sweep_ticker(stop: threading.Event) -> threading.Thread:
    """Every worker process ticks; the unique job id makes N tickers one sweep."""

    def tick() -> None:
        while not stop.wait(SWEEP_INTERVAL.total_seconds()):
            enqueue_once(DEFAULT, "maintenance-sweep", sweep)

    thread = threading.Thread(target=tick, name="sweep-ticker", daemon=True)
    thread.start()
    return thread
