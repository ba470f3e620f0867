"""Queue names and the one way to enqueue follow-up work from the router."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError

from workers.connection import redis_connection

log = logging.getLogger(__name__)

SLA = "sla"  # timers first: lateness there is a missed promise
PAGING = "paging"
DEFAULT = "default"
AUDIT = "audit"
ALL_QUEUES = (SLA, PAGING, DEFAULT, AUDIT)

SWEEP_INTERVAL = timedelta(seconds=30)


def queue(name: str, connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue_once(
    name: str, job_id: str, func: Callable[..., Any], *args: Any, connection: redis.Redis | None = None
) -> bool:
    """Enqueue unless a job with this id is already waiting or running (a debounce).
    Redis being down is logged, not raised: the periodic sweep catches up."""
    try:
        queue(name, connection).enqueue(
            func, *args, job_id=job_id, unique=True, result_ttl=0, failure_ttl=3600
        )
        return True
    except DuplicateJobError:
        return False
    except redis.RedisError as exc:
        log.warning("could not enqueue %s (%s); the sweep will retry", job_id, exc)
        return False
