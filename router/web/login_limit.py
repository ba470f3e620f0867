"""Login rate limiting: failed sign-ins are counted per user name and per client address in
Redis, so every router process shares the count, and a burst of guesses is refused for a while."""

from __future__ import annotations

import contextlib
import hashlib
import logging

import redis

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
PREFIX = "engage:login:fail:"


def _keys(name: str, address: str) -> list[str]:
    # Hashed: Redis holds no user names or addresses in the clear.
    return [
        PREFIX + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]
        for kind, value in (("user", name.strip().lower()), ("addr", address))
    ]


def retry_after(conn: redis.Redis, *, name: str, address: str) -> int | None:
    """Seconds until this name or address may try again, or None when it may try now."""
    try:
        counts = conn.mget(_keys(name, address))
        if all(int(c or 0) < MAX_FAILURES for c in counts):
            return None
        ttls = [
            conn.ttl(k)
            for k, c in zip(_keys(name, address), counts, strict=True)
            if int(c or 0) >= MAX_FAILURES
        ]
        return max(max(ttls), 1)
    except redis.RedisError as exc:  # availability first: sign-in still works while Redis is down
        log.warning("login limit unavailable (%s); allowing the attempt", exc)
        return None


def record_failure(conn: redis.Redis, *, name: str, address: str) -> None:
    try:
        with conn.pipeline() as pipe:
            for key in _keys(name, address):
                pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)  # the window starts at the first failure
                pipe.incr(key)
            pipe.execute()

    except redis.RedisError as exc:
        log.warning("could not count a failed login (%s)", exc)


def clear(conn: redis.Redis, *, name: str, address: str) -> None:
    """A successful sign-in forgets that name's failures (not the address's)."""
    with contextlib.suppress(redis.RedisError):
        conn.delete(_keys(name, address)[0])
