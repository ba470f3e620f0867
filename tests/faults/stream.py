"""A stream of posts over real HTTP, sent the way the platforms send: signed, and retried on a
refused connection, a timeout or a 5xx until the router answers 200 (or a deadline passes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels.signed_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SOURCE = "faults"  # the generic signed source: INGEST_SECRET_FAULTS
INGEST_SECRET = "faults-ingest-secret"
X_SECRET = "faults-x-consumer-secret"
BRAND_ID = "783214"
FILE_CHANNEL = "filefeed"

Key = tuple[str, str]  # (channel, platform_id)

TEXTS = (
    "my order #{n} never arrived and nobody answers",
    "how do I change the delivery address on order {n}?",
    "charged twice for my subscription again, refund please ({n})",
    "love the new oat bars, thank you!! {n}",
    "I'm talking to my lawyer about order {n}",
)
_x_ids = itertools.count(int(time.time() * 1000) << 22)


def stack_env() -> dict[str, str]:
    return {
        f"INGEST_SECRET_{SOURCE.upper()}": INGEST_SECRET,
        "X_CONSUMER_SECRET": X_SECRET,
        "X_BRAND_ACCOUNTS": json.dumps({"acme": BRAND_ID}),
    }


def generic_post(tag: str, n: int) -> dict[str, object]:
    return {
        "platform_id": f"{tag}-{n}",
        "account": "acme",
        "author": {"handle": f"user{n % 97}", "followers": 10 + n},
        "text": TEXTS[n % len(TEXTS)].format(n=n),
        "created_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
    }


def x_delivery(n: int) -> tuple[bytes, str]:
    post_id = str(next(_x_ids))
    event = {
        "id_str": post_id,
        "text": "@acme " + TEXTS[n % len(TEXTS)].format(n=n),
        "user": {"id_str": str(6_000_000 + n), "screen_name": f"xuser{n % 89}", "followers_count": 40},
        "timestamp_ms": str(int(time.time() * 1000)),
    }
    return json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": [event]}).encode(), post_id


@dataclass
class Delivery:
    path: str
    body: bytes
    keys: list[Key]

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.path.startswith("/webhooks/x"):
            mac = hmac.new(X_SECRET.encode(), self.body, hashlib.sha256).digest()
            headers["x-twitter-webhooks-signature"] = "sha256=" + base64.b64encode(mac).decode()
        else:  # a generic sender signs each attempt with the current time
            ts = str(int(time.time()))
            headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER] = sign(INGEST_SECRET, ts, self.body), ts
        return headers


def deliveries(tag: str, start: int, count: int, batch: int = 5, x_every: int = 4) -> list[Delivery]:
    """`count` requests: mostly batches of generic posts, every `x_every`-th one an X webhook."""
    out: list[Delivery] = []
    for i in range(start, start + count):
        if x_every and i % x_every == 0:
            body, post_id = x_delivery(i)
            out.append(Delivery("/webhooks/x", body, [("x", post_id)]))
            continue
        posts = [generic_post(tag, i * batch + j) for j in range(batch)]
        keys = [(SOURCE, str(p["platform_id"])) for p in posts]
        out.append(Delivery(f"/ingest/{SOURCE}", json.dumps({"posts": posts}).encode(), keys))
    return out


def replay_file(path: Path, tag: str, count: int) -> list[Key]:
    """A JSONL file for `engage ingest --format jsonl`."""
    lines, keys = [], []
    for n in range(count):
        post = {**generic_post(tag, n), "channel": FILE_CHANNEL, "direction": "inbound", "lang": "en"}
        lines.append(json.dumps(post))
        keys.append((FILE_CHANNEL, str(post["platform_id"])))
    path.write_text("\n".join(lines) + "\n")
    return keys


@dataclass
class SendStats:
    accepted: set[Key] = field(default_factory=set)
    requests: int = 0
    attempts: int = 0
    retried: int = 0  # requests that needed more than one attempt
    given_up: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: str) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


class Sender:
    """`threads` concurrent senders draining a queue of deliveries, `interval` s apart per thread."""

    def __init__(
        self, base_url: str, *, threads: int = 4, interval: float = 0.02, deadline: float = 90
    ) -> None:
        self.base_url, self.interval, self.deadline = base_url, interval, deadline
        self.stats = SendStats()
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def send(self, items: Iterable[Delivery]) -> None:
        for item in items:
            self._queue.put(item)

    def close(self, timeout: float = 180) -> SendStats:
        for _ in self._threads:
            self._queue.put(None)
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, end - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            raise TimeoutError("sender threads did not finish")
        return self.stats

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(item)
                time.sleep(self.interval)
            finally:
                self._queue.task_done()

    def _deliver(self, item: Delivery) -> None:
        stats, give_up_at, attempt = self.stats, time.monotonic() + self.deadline, 0
        with stats.lock:
            stats.requests += 1
        while time.monotonic() < give_up_at:
            attempt += 1
            with stats.lock:
                stats.attempts += 1
            request = urllib.request.Request(
                self.base_url + item.path, data=item.body, headers=item.headers(), method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    json.loads(response.read())
                stats.count("200")
                with stats.lock:
                    stats.accepted.update(item.keys)
                    stats.retried += attempt > 1
                return
            except urllib.error.HTTPError as exc:
                stats.count(str(exc.code))
                if exc.code < 500 and exc.code != 429:
                    stats.given_up.append(f"{item.path}: HTTP {exc.code} {exc.read()[:200]!r}")
                    return
            except (OSError, ValueError) as exc:  # refused, reset, timed out, cut short
                stats.count(type(exc).__name__)
            time.sleep(min(0.1 * 2**attempt, 1.0))
        stats.given_up.append(f"{item.path}: no 200 within {self.deadline} s")
