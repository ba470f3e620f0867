"""A local stand-in for the HTTP pagers: records every request and answers like the real thing.

- `POST /v2/enqueue`: PagerDuty Events API v2. Checks the event as PagerDuty documents it and
  answers 202 {"status": "success", "message": "Event processed", "dedup_key": …} or 400
  {"status": "invalid event", …}; keeps each incident's state (triggered, acknowledged, resolved).
- `POST /services/…`: a Slack incoming webhook; answers "ok", or 400 "invalid_payload".
- Any other POST: a generic webhook; answers 200 {"received": true}.
`fail(path, status, times)` makes the next `times` requests to `path` answer `status`.

    sink = PagerSink()
    async with TestServer(sink.app(), host="127.0.0.1") as server:
        url = str(server.make_url("/"))
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


class PagerSink:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.incidents: dict[str, str] = {}  # PagerDuty dedup_key -> state
        self._failures: dict[str, list[int]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._pagerduty)
        app.router.add_post("/services/{tail:.*}", self._slack)
        app.router.add_post("/{tail:.*}", self._webhook)
        return app

    def fail(self, path: str, status: int, times: int = 1) -> None:
        self._failures.setdefault(path, []).extend([status] * times)

    def at(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    async def _record(self, request: web.Request) -> tuple[Recorded, web.Response | None]:
        recorded = Recorded(request.method, request.path, dict(request.headers), await request.read())
        self.requests.append(recorded)
        queued = self._failures.get(request.path)
        if queued:
            status = queued.pop(0)
            return recorded, web.json_response(
                {"status": "error", "message": f"injected {status}"}, status=status
            )
        return recorded, None

    async def _pagerduty(self, request: web.Request) -> web.Response:
        recorded, failure = await self._record(request)
        if failure is not None:
            return failure
        try:
            event = recorded.json()
        except ValueError:
            return _invalid(["Event object is not valid JSON"])
        errors = _pagerduty_errors(event)
        if errors:
            return _invalid(errors)
        key = event.get("dedup_key") or uuid.uuid4().hex
        action = event["event_action"]
        if action == "trigger":
            if self.incidents.get(key) in (None, "resolved"):
                self.incidents[key] = "triggered"
        elif self.incidents.get(key) in ("triggered", "acknowledged"):  # PagerDuty ignores the rest
            self.incidents[key] = "acknowledged" if action == "acknowledge" else "resolved"
        body = {"status": "success", "message": "Event processed", "dedup_key": key}
        return web.json_response(body, status=202)

    async def _slack(self, request: web.Request) -> web.Response:
        recorded, failure = await self._record(request)
        if failure is not None:
            return web.Response(status=failure.status, text="rate_limited")
        try:
            body = recorded.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return web.Response(status=400, text="no_text")
        return web.Response(text="ok")

    async def _webhook(self, request: web.Request) -> web.Response:
        _, failure = await self._record(request)
        return failure or web.json_response({"received": True})


def _invalid(errors: list[str]) -> web.Response:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return web.json_response(body, status=400)


def _pagerduty_errors(event: Any) -> list[str]:
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' must be a 32 character integration key")
    if event.get("event_action") not in PD_ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    if event.get("event_action") in ("acknowledge", "resolve") and not event.get("dedup_key"):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if len(str(event.get("dedup_key") or "")) > 255:
        errors.append("'dedup_key' is longer than 255 characters")
    if event.get("event_action") == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            for name in ("summary", "source"):
                if not isinstance(payload.get(name), str) or not payload[name]:
                    errors.append(f"'payload.{name}' is missing or blank")
            if payload.get("severity") not in PD_SEVERITIES:
                errors.append("'payload.severity' must be one of critical, error, warning, info")
            if len(str(payload.get("summary", ""))) > 1024:
                errors.append("'payload.summary' is longer than 1024 characters")
    return errors


@contextmanager
def serve_in_thread(sink: PagerSink) -> Iterator[str]:
    """Serve the sink from its own thread and loop (for code under test that runs its own loop,
    such as RQ jobs calling asyncio.run). Yields the base URL, with a trailing slash."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(sink.app())
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()

    thread = threading.Thread(target=loop.run_forever, name="pager-sink", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port[0]}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
