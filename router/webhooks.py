"""Webhook endpoints: verify, keep the raw delivery, answer 200 at once, then ingest.

/webhooks/x (GET CRC, POST events), /webhooks/facebook (GET handshake, POST), /ingest/{source}.
A forged or unsigned request gets 401/403 and leaves nothing but a log line; a signed delivery
we cannot read gets a 4xx with the reason and a dead letter; a repeated delivery is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from channels.base import InboundPost, WebhookRejected
from channels.facebook import FacebookAdapter, verify_facebook_signature, verify_subscription
from channels.signed_webhook import SignedWebhookAdapter, parse_posts
from channels.x import XAdapter, crc_response, verify_x_signature
from router import dead_letter
from router.errors import ApiError
from router.models import InboxEvent
from router.runtime import SERVICES, run_blocking, services
from router.timeutil import utcnow

log = logging.getLogger(__name__)

Normalize = Callable[[Mapping[str, Any]], Sequence[InboundPost]]


class _NoCheckpoints:
    """Webhook adapters only normalize; they never poll."""

    async def get(self, key: str) -> str | None:
        return None

    async def set(self, key: str, value: str) -> None:
        return None


@dataclass
class WebhookConfig:
    x_secret: SecretStr | None
    facebook_app_secret: SecretStr | None
    facebook_verify_token: SecretStr | None
    ingest_secret: Callable[[str], SecretStr | None]
    x: XAdapter
    facebook: FacebookAdapter
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def normalizer(self, source: str) -> Normalize:
        if source == "x":
            return self.x.normalize
        if source == "facebook":
            return self.facebook.normalize
        name = source.removeprefix("ingest:")
        return lambda payload: parse_posts(name, payload)


WEBHOOKS = web.AppKey("webhooks", WebhookConfig)


def config_from_settings(app: web.Application) -> WebhookConfig:
    settings = app[SERVICES].settings  # the router's one settings object
    x, facebook = settings.x, settings.facebook
    return WebhookConfig(
        x_secret=x.consumer_secret,
        facebook_app_secret=facebook.app_secret,
        facebook_verify_token=facebook.verify_token,
        ingest_secret=settings.ingest_secret,
        x=XAdapter(x, _NoCheckpoints()),
        facebook=FacebookAdapter(facebook, _NoCheckpoints()),
    )


def _rejected(source: str, request: web.Request, exc: WebhookRejected) -> ApiError:
    log.warning("%s webhook from %s refused: %s %s", source, request.remote, exc.status, exc.reason)
    return ApiError(exc.status, "webhook_rejected", exc.reason)


# --- persistence (runs on the app's DB threads) --------------------------------------------------


def _keep_bad(engine: Any, source: str, reason: str, raw: bytes) -> None:
    with Session(engine) as session:
        dead_letter.keep(
            session, source=f"webhook:{source}", reason=reason, payload=raw.decode("utf-8", "replace")
        )
        session.commit()


def _store(engine: Any, source: str, raw: bytes) -> tuple[int, bool]:
    """Insert the delivery once; returns (event id, already processed)."""
    key = hashlib.sha256(raw).hexdigest()
    query = select(InboxEvent).where(InboxEvent.source == source, InboxEvent.delivery_key == key)
    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(query).first()
        if found is None:
            event = InboxEvent(source=source, delivery_key=key, body=raw)
            session.add(event)
            try:
                session.commit()
                assert event.id is not None
                return event.id, False
            except IntegrityError:  # the same delivery, concurrently
                session.rollback()
                found = session.exec(query).one()
        assert found.id is not None
        return found.id, found.processed_at is not None


RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _transient(exc: BaseException | None) -> bool:
    """The database is away (restarting, failing over, locked), not the delivery at fault; also
    when that surfaced as a follow-on error (a session that must roll back) while handling it."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _process(app: web.Application, event_id: int) -> None:
    """Ingest one stored delivery. A database outage raises (the delivery stays pending and is
    retried); anything else marks it processed with the error and keeps a dead letter."""
    svc, cfg = app[SERVICES], app[WEBHOOKS]
    with Session(svc.engine, expire_on_commit=False) as session:
        event = session.get(InboxEvent, event_id)
        if event is None or event.processed_at is not None:
            return
        source, body = event.source, event.body
    error = None
    try:
        posts = cfg.normalizer(source)(json.loads(body))
        result = svc.ingestor.ingest(list(posts), source=f"webhook:{source}")
        log.info(
            "%s delivery %s: %s stored, %s duplicates", source, event_id, result.stored, result.duplicates
        )
    except Exception as exc:  # one delivery is the loop boundary; it stays in the inbox and dead-letter
        if _transient(exc):
            raise
        log.exception("processing %s delivery %s failed", source, event_id)
        error = f"{type(exc).__name__}: {exc}"
        _keep_bad(svc.engine, source, error, body)
    with Session(svc.engine) as session:
        event = session.get(InboxEvent, event_id)
        if event is not None:
            event.processed_at, event.error = utcnow(), error
            session.add(event)
            session.commit()


async def _process_until_done(app: web.Application, event_id: int) -> None:
    for attempt in itertools.count():
        try:
            await run_blocking(app, _process, app, event_id)
            return
        except Exception as exc:
            if not _transient(exc):
                log.exception("delivery %s could not be processed; it stays pending", event_id)
                return
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            log.warning("delivery %s: database unavailable (%s); retrying in %s s", event_id, exc, delay)
            await asyncio.sleep(delay)


def _schedule(app: web.Application, event_id: int) -> None:
    cfg = app[WEBHOOKS]
    task = asyncio.create_task(_process_until_done(app, event_id))
    cfg.tasks.add(task)
    task.add_done_callback(cfg.tasks.discard)


async def wait_idle(app: web.Application) -> None:
    """Until every accepted delivery has been processed (tests, shutdown)."""
    while app[WEBHOOKS].tasks:
        await asyncio.gather(*list(app[WEBHOOKS].tasks), return_exceptions=True)


# --- the shared accept path ------------------------------------------------------------------------


async def _accept(request: web.Request, source: str, raw: bytes) -> web.Response:
    engine = services(request).engine
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body: must be a JSON object")
        posts = request.app[WEBHOOKS].normalizer(source)(payload)  # cheap and pure: bad input is a 4xx now
    except WebhookRejected as exc:
        await run_blocking(request, _keep_bad, engine, source, exc.reason, raw)
        raise ApiError(exc.status, "bad_payload", exc.reason) from None
    except RecursionError:  # JSON nested deeper than the parser goes: refused, never a 500
        reason = "body: JSON nested too deeply"
        await run_blocking(request, _keep_bad, engine, source, reason, raw)
        raise ApiError(400, "bad_payload", reason) from None
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        ValidationError,
    ) as exc:  # a shape we did not expect
        status = 400 if isinstance(exc, json.JSONDecodeError) else 422
        reason = f"body: {type(exc).__name__}: {exc}"[:500]
        await run_blocking(request, _keep_bad, engine, source, reason, raw)
        raise ApiError(status, "bad_payload", reason) from None
    event_id, processed = await run_blocking(request, _store, engine, source, raw)
    if not processed:
        _schedule(request.app, event_id)
    return web.json_response({"status": "duplicate" if processed else "accepted", "posts": len(posts)})


routes = web.RouteTableDef()


@routes.get("/webhooks/x")
async def x_crc(request: web.Request) -> web.Response:
    token = request.query.get("crc_token")
    secret = request.app[WEBHOOKS].x_secret
    if not token:
        raise ApiError(400, "bad_request", "crc_token is required")
    if secret is None:
        raise ApiError(503, "not_configured", "X_CONSUMER_SECRET is not configured")
    return web.json_response(crc_response(secret, token))


@routes.post("/webhooks/x")
async def x_events(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        verify_x_signature(
            request.app[WEBHOOKS].x_secret, raw, request.headers.get("x-twitter-webhooks-signature")
        )
    except WebhookRejected as exc:
        raise _rejected("x", request, exc) from None
    return await _accept(request, "x", raw)


@routes.get("/webhooks/facebook")
async def facebook_verify(request: web.Request) -> web.Response:
    try:
        challenge = verify_subscription(request.query, request.app[WEBHOOKS].facebook_verify_token)
    except WebhookRejected as exc:
        raise _rejected("facebook", request, exc) from None
    return web.Response(text=challenge, content_type="text/plain")


@routes.post("/webhooks/facebook")
async def facebook_events(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        verify_facebook_signature(
            request.app[WEBHOOKS].facebook_app_secret, raw, request.headers.get("X-Hub-Signature-256")
        )
    except WebhookRejected as exc:
        raise _rejected("facebook", request, exc) from None
    return await _accept(request, "facebook", raw)


@routes.post("/ingest/{source}")
async def ingest_source(request: web.Request) -> web.Response:
    source = request.match_info["source"]
    raw = await request.read()
    try:
        SignedWebhookAdapter(source, request.app[WEBHOOKS].ingest_secret(source)).verify(raw, request.headers)
    except WebhookRejected as exc:
        raise _rejected(f"ingest:{source}", request, exc) from None
    return await _accept(request, f"ingest:{source}", raw)


async def _inbox_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Deliveries stored but not processed when the last process stopped are processed now."""

    def pending() -> list[int]:
        with Session(app[SERVICES].engine) as session:
            query = (
                select(InboxEvent.id)
                .where(col(InboxEvent.processed_at).is_(None))
                .order_by(col(InboxEvent.id))
            )
            return [i for i in session.exec(query).all() if i is not None]

    for event_id in await run_blocking(app, pending):
        _schedule(app, event_id)
    yield
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wait_idle(app), timeout=10)


def register(app: web.Application) -> None:
    app[WEBHOOKS] = config_from_settings(app)

    app.add_routes(routes)
    app.cleanup_ctx.append(_inbox_lifecycle)
