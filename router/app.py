"""The aiohttp application: health, the JSON queue, and the routes other packages register."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from router import api, auth, ops, webhooks
from router.errors import json_errors
from router.idempotency import idempotency
from router.logs import AccessLogger
from router.runtime import EXECUTOR, SERVICES, run_blocking
from router.security import security_headers
from router.services import Services
from router.web import setup as web_setup

log = logging.getLogger(__name__)

RULES_POLL_SECONDS = 2.0
MAX_BODY_BYTES = 5 * 1024 * 1024


async def _watch_rules(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        holder = app[SERVICES].rules
        while True:
            await asyncio.sleep(RULES_POLL_SECONDS)
            try:
                await run_blocking(app, holder.reload_if_changed)
            except Exception:  # keep watching: the last good rule set stays live
                log.exception("rule reload check failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _executor(app: web.Application) -> AsyncIterator[None]:
    yield
    app[EXECUTOR].shutdown(wait=False, cancel_futures=True)


def create_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, ops.request_ids, json_errors, auth.authorize, idempotency],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICES] = services
    app[EXECUTOR] = ThreadPoolExecutor(max_workers=8, thread_name_prefix="db")
    app.cleanup_ctx.append(_executor)
    app.cleanup_ctx.append(_watch_rules)
    api.register(app)
    web_setup.install(app, services)  # queue pages, live updates, the rest of /api
    webhooks.register(app)
    ops.register(app, services.engine)
    return app


def serve(services: Services, *, host: str, port: int, announce: Callable[..., None] | None = print) -> None:
    """Run the app until interrupted: the one way `serve` and `demo` start the web process."""
    services.warm_up()  # the first webhook must not pay for loading rules and language models
    # What start-up loaded lives as long as the process: out of the collector's reach, a full
    # collection no longer walks it (each walk stalled every request for 0.3-0.4 s, the queue's p99)
    gc.collect()
    gc.freeze()
    web.run_app(create_app(services), host=host, port=port, print=announce, access_log_class=AccessLogger)
