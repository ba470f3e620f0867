"""Live updates: one change feed per process reads new audit events and fans them out to every
open page over server-sent events; presence (who views or types on a case) lives here too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import Session, col, select

from router import claims
from router.auth import current_user
from router.models import AuditEvent
from router.runtime import SERVICES, run_blocking
from router.web.assign import assign_new
from router.web.settings import QUEUE_SETTINGS

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
EXPIRE_EVERY = 5  # polls between lease sweeps
BYE: dict[str, Any] = {"type": "bye"}


class Hub:
    def __init__(self, presence_ttl: float) -> None:
        self.ttl = presence_ttl
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.presence: dict[int, dict[str, tuple[str, float]]] = {}

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=200)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck client misses updates, not the rest
                queue.put_nowait(event)

    def viewers(self, case_id: int) -> list[dict[str, str]]:
        now = time.monotonic()
        here = self.presence.get(case_id, {})
        return [{"user": u, "state": s} for u, (s, at) in sorted(here.items()) if now - at < self.ttl]

    def touch(self, case_id: int, user: str, state: str) -> None:
        here = self.presence.setdefault(case_id, {})
        before = here.get(user, ("", 0.0))[0]
        here[user] = (state, time.monotonic())
        if before != state:
            self.publish({"type": "presence", "case": case_id, "viewers": self.viewers(case_id)})

    def leave(self, case_id: int, user: str) -> None:
        if self.presence.get(case_id, {}).pop(user, None) is not None:
            self.publish({"type": "presence", "case": case_id, "viewers": self.viewers(case_id)})

    def prune(self) -> None:
        now = time.monotonic()
        for case_id, here in list(self.presence.items()):
            stale = [u for u, (_, at) in here.items() if now - at >= self.ttl]
            for user in stale:
                del here[user]
            if stale:
                self.publish({"type": "presence", "case": case_id, "viewers": self.viewers(case_id)})
            if not here:
                del self.presence[case_id]


HUB = web.AppKey("live_hub", Hub)


def _latest_id(engine: Any) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(col(AuditEvent.id)))).one() or 0


def _since(engine: Any, last_id: int) -> list[Any]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent.id, AuditEvent.case_id)
                .where(col(AuditEvent.id) > last_id)
                .order_by(col(AuditEvent.id))
                .limit(1000)
            ).all()
        )


def _housekeeping(app: web.Application, push: bool) -> None:
    settings = app[QUEUE_SETTINGS]
    with Session(app[SERVICES].engine) as session:
        claims.expire_leases(session)
        if push:
            assign_new(session, lease=timedelta(seconds=settings.lease_seconds))
        session.commit()


async def _feed(app: web.Application) -> None:
    settings, hub, engine = app[QUEUE_SETTINGS], app[HUB], app[SERVICES].engine
    last_id = await run_blocking(app, _latest_id, engine)
    polls = 0
    while True:
        await asyncio.sleep(settings.live_poll_seconds)
        polls += 1
        try:
            if polls % EXPIRE_EVERY == 0 or settings.push_assignment:
                await run_blocking(app, _housekeeping, app, settings.push_assignment)
            rows = await run_blocking(app, _since, engine, last_id)
            hub.prune()
        except Exception:  # the loop boundary: log and keep feeding
            log.exception("live change feed failed")
            continue
        if rows:
            last_id = rows[-1][0]
            # ids only: each page re-reads what its user may see
            hub.publish({"type": "changed", "cases": sorted({r[1] for r in rows if r[1] is not None})})


async def live_feed(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_feed(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def close_streams(app: web.Application) -> None:
    app[HUB].publish(BYE)


def _frame(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """GET /api/events[?case=ID]: server-sent events `changed` (case ids) and `presence`."""
    current_user(request)
    hub = request.app[HUB]
    case = request.query.get("case")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = hub.subscribe()
    try:
        await response.write(b"retry: 2000\n\n")
        if case and case.isdigit():
            await response.write(
                _frame({"type": "presence", "case": int(case), "viewers": hub.viewers(int(case))})
            )
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if event is BYE:
                break
            if event["type"] == "presence" and str(event["case"]) != case:
                continue
            await response.write(_frame(event))
    except ConnectionResetError:  # the browser went away
        pass
    finally:
        hub.unsubscribe(queue)
    return response
