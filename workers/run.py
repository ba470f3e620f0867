"""Running RQ workers: the `engage worker` process, or one in-process for the demo and tests."""

from __future__ import annotations

import threading

from rq import SimpleWorker, Worker

from workers.connection import redis_connection
from workers.maintenance import start_sweep_ticker, sweep
from workers.queues import ALL_QUEUES, DEFAULT, enqueue_once, queue


def run_worker(*, burst: bool = False, with_scheduler: bool = True, simple: bool = False) -> bool:
    """Work all queues in priority order. `simple` runs jobs in this process (no fork)."""
    connection = redis_connection()
    queues = [queue(name, connection) for name in ALL_QUEUES]
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class(queues, connection=connection)
    stop = threading.Event()
    if not burst:
        start_sweep_ticker(stop)
    enqueue_once(DEFAULT, "maintenance-sweep", sweep, connection=connection)  # catch up at start
    try:
        return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING")
    finally:
        stop.set()
