"""`engage poll x --loop` against the fake X API while it answers 500s, then 429s, for a while.

The fake runs in a thread of this process on 127.0.0.1; new posts appear on it throughout. The
poller is the real command; only its wait after a 5xx (30 s in production) is shortened to 1 s
so the test fits in CI. After the storm every post the fake holds is stored exactly once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.x_api import FakeXApi
from tests.faults.checks import Row, engine_for, measure, settle
from tests.faults.harness import PYTHON, PrivatePostgres, PrivateRedis, Stack, free_port, port_open, wait_for
from tests.faults.scenarios import flush_redis
from tests.faults.stream import BRAND_ID, Key, stack_env

POLL_SHIM = (
    "import sys; from datetime import timedelta; import channels.x as x; "
    "x.SERVER_ERROR_WAIT = timedelta(seconds=1); from router.cli import main; "
    "main(['poll', 'x', '--loop', '--interval', '0.3'])"
)
AUTHOR_ID = "6253282"


class FakeXServer:
    """FakeXApi served from a background thread; `call` runs a mutation on its loop."""

    def __init__(self) -> None:
        self.api = FakeXApi(app_bearer="fault-bearer", authenticated_user_id=BRAND_ID)
        self.api.add_user(BRAND_ID, "acme", name="Acme", followers=90_000, verified=True)
        self.api.add_user(AUTHOR_ID, "maria", followers=40)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("fake X API did not start")
        wait_for(lambda: port_open(self.port), 10, "the fake X API")

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._runner = web.AppRunner(self.api.app())
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self.loop.run_until_complete(start())
        self._ready.set()
        self.loop.run_forever()

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def add_mentions(self, n: int, tag: str) -> list[Key]:
        def add() -> list[Key]:
            posts = [self.api.add_post(f"@acme order {tag}-{i} never came", AUTHOR_ID) for i in range(n)]
            return [("x", str(p["id"])) for p in posts]

        return list(self.call(add))

    def close(self) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def run_x_poll_storm(
    pg: PrivatePostgres, redis: PrivateRedis, template: str, *, storm_seconds: float = 6
) -> Row:
    name = f"x_poll_{uuid.uuid4().hex[:6]}"
    row = Row("X API 500s then 429s (engage poll x)")
    flush_redis(redis)
    fake = FakeXServer()
    env = {
        **stack_env(),
        "X_API_BASE_URL": f"http://127.0.0.1:{fake.port}",
        "X_BEARER_TOKEN": "fault-bearer",
        "X_SEARCH_QUERIES": json.dumps(["acme"]),
        "X_MAX_RESULTS": "10",
        "X_MAX_PAGES_PER_POLL": "3",
    }
    stack = Stack(pg, redis, name, env, template=template)
    engine = engine_for(stack.database_url)
    keys: list[Key] = []
    try:
        stack.start_worker()
        keys += fake.add_mentions(15, "before")
        poller = stack.spawn("poll-x", [str(PYTHON), "-c", POLL_SHIM])
        wait_for(
            lambda: settle(engine, set(keys), timeout=0.5, stable_for=0) < 0.5,
            60,
            "the first posts to be polled",
        )
        started = time.monotonic()
        # 500s on both endpoints for a while, new posts arriving meanwhile
        seen = fake.call(lambda: len(fake.api.requests))
        fake.call(lambda: [fake.api.fail_next(e, 500, times=10_000) for e in ("search", "mentions")])
        for i in range(3):
            keys += fake.add_mentions(5, f"storm5xx{i}")
            time.sleep(storm_seconds / 6)
        answered_500 = fake.call(lambda: len(fake.api.requests)) - seen
        fake.call(lambda: [fake.api.failures.clear()])
        seen = fake.call(lambda: len(fake.api.requests))
        # then the budget is spent: 429 with a reset a few seconds ahead, refilled afterwards
        for endpoint in ("search", "mentions"):
            fake.call(lambda e=endpoint: fake.api.set_budget(e, 0, reset_in=2))
        for i in range(3):
            keys += fake.add_mentions(5, f"storm429{i}")
            time.sleep(storm_seconds / 6)
        answered_429 = fake.call(lambda: len(fake.api.requests)) - seen
        for endpoint in ("search", "mentions"):
            fake.call(lambda e=endpoint: fake.api.set_budget(e, 450))
        keys += fake.add_mentions(10, "after")
        waited = settle(engine, set(keys), timeout=60)
        row.recovery_s = time.monotonic() - started
        row.notes.append(
            f"{answered_500} polls answered 500, {answered_429} answered 429; poller alive: {poller.running}"
        )
        if not (answered_500 and answered_429):
            row.problems.append("the storm never reached the poller")
        if not poller.running:
            row.problems.append(f"the poller died: {poller.tail(1500)!r}")
        if waited >= 60:
            row.problems.append(f"not settled after 60 s: {poller.tail(1500)!r}")
        return measure(row, engine, set(keys))
    finally:
        engine.dispose()
        stack.close()
        fake.close()
