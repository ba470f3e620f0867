"""Webhook endpoints: verify, keep the raw delivery, answer 200 at once, then ingest.

/webhooks/x (GET CRC, POST events), /webhooks/facebook (GET handshake, POST), /ingest/{source}.
A forged or unsigned request gets 401/403 and leaves nothing but a log line; a signed delivery
we cannot read gets a 4xx with the reason and a dead letter; a repeated delivery is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial

from aiohttp import web
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from channels.base import WebhookRejected
from channels.facebook import FacebookAdapter, verify_facebook_signature, verify_subscription
from channels.signed_webhook import SignedWebhookAdapter, parse_posts
from channels.x import XAdapter, crc_response, verify_x_signature
from router.errors import ApiError
from router.inbox import Delivery, Inbox, InboxProcessor, Normalize, keep_bad, pending_deliveries
from router.models import InboxEvent
from router.runtime import SERVICES, run_blocking, services
from router.timeutil import utcnow

log = logging.getLogger(__name__)


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


def _store(engine: Engine, source: str, raw: bytes) -> tuple[int, bool]:
    """Insert the delivery once (one round trip); returns (event id, already processed)."""
    key = hashlib.sha256(raw).hexdigest()
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with Session(engine) as session, session.begin():
        event_id = session.execute(
            insert(table)
            .values(source=source, delivery_key=key, body=raw, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["source", "delivery_key"])
            .returning(table.c.id)
        ).scalar()
        if event_id is not None:
            return event_id, False
        found = session.execute(
            select(InboxEvent.id, InboxEvent.processed_at).where(
                InboxEvent.source == source, InboxEvent.delivery_key == key
            )
        ).one()
        return found.id, found.processed_at is not None


INBOX = web.AppKey("inbox", Inbox)


async def wait_idle(app: web.Application) -> None:
    """Until every accepted delivery has been processed (tests, shutdown)."""
    await app[INBOX].idle()


# --- the shared accept path ------------------------------------------------------------------------


async def _accept(request: web.Request, source: str, raw: bytes) -> web.Response:
    engine = services(request).engine
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body: must be a JSON object")
        posts = request.app[WEBHOOKS].normalizer(source)(payload)  # cheap and pure: bad input is a 4xx now
    except WebhookRejected as exc:
        await run_blocking(request, keep_bad, engine, source, exc.reason, raw)
        raise ApiError(exc.status, "bad_payload", exc.reason) from None
    except RecursionError:  # JSON nested deeper than the parser goes: refused, never a 500
        reason = "body: JSON nested too deeply"
        await run_blocking(request, keep_bad, engine, source, reason, raw)
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
        await run_blocking(request, keep_bad, engine, source, reason, raw)
        raise ApiError(status, "bad_payload", reason) from None
    event_id, processed = await run_blocking(request, _store, engine, source, raw)
    if not processed:
        request.app[INBOX].put(Delivery(event_id, source, posts))
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
    """One drainer per process; deliveries stored but not processed when the last process stopped
    are processed first."""
    svc, cfg = app[SERVICES], app[WEBHOOKS]
    inbox = app[INBOX] = Inbox(
        InboxProcessor(svc.engine, svc.ingestor, cfg.normalizer), partial(run_blocking, app)
    )
    for delivery in await run_blocking(app, pending_deliveries, svc.engine):
        inbox.put(delivery)
    yield
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(inbox.idle(), timeout=10)
    await inbox.close()


def register(app: web.Application) -> None:
    app[WEBHOOKS] = config_from_settings(app)

    app.add_routes(routes)
    app.cleanup_ctx.append(_inbox_lifecycle)
