"""Installs the queue's web side on the app: settings, live hub, channel repliers, routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from router.replies import REPLIERS, Repliers
from router.services import Services
from router.web import api_more, live, pages, reports_pages
from router.web.casequery import COUNTS, CountsCache
from router.web.settings import QUEUE_SETTINGS, QueueSettings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


async def _close_repliers(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[REPLIERS].aclose()


def install(app: web.Application, services: Services) -> None:
    settings = QueueSettings()
    app[QUEUE_SETTINGS] = settings
    app[live.HUB] = live.Hub(settings.presence_ttl_seconds)
    app[COUNTS] = CountsCache()
    app[REPLIERS] = Repliers(services.settings)
    app.cleanup_ctx.append(live.live_feed)
    app.cleanup_ctx.append(_close_repliers)
    app.on_shutdown.append(live.close_streams)
    api_more.register(app)
    pages.register(app)
    reports_pages.register(app)
    app.router.add_static("/static", STATIC_DIR, append_version=True)
