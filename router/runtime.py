"""What request handlers reach through the app: the services and the blocking-work threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from router.services import Services

SERVICES = web.AppKey("services", Services)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)

T = TypeVar("T")


async def run_blocking(request_or_app: web.Request | web.Application, fn: Callable[..., T], *args: Any) -> T:
    """Database and rules work runs off the event loop, on the app's worker threads."""
    app = request_or_app.app if isinstance(request_or_app, web.Request) else request_or_app
    return await asyncio.get_running_loop().run_in_executor(app[EXECUTOR], fn, *args)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]
