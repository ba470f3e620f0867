"""X (Twitter) through tweepy's AsyncClient: polling with since_id checkpoints, replies, webhook checks.

Why AsyncClient rather than the sync Client: the router, its webhooks and the pollers run on one asyncio
loop (aiohttp), so an async client needs no thread pool, gets aiohttp's timeouts (the sync Client sets
none and can hang), and its base URL can be rewritten with a client middleware on a session we own.
We ask tweepy for the raw aiohttp response so the x-rate-limit-* headers are visible for back-off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import tweepy
from pydantic import SecretStr
from tweepy.asynchronous import AsyncClient

from channels.base import (
    ChannelUnavailable,
    CheckpointStore,
    InboundPost,
    PollReport,
    PostSink,
    RateLimited,
    ReplyRejected,
    WebhookRejected,
)
from channels.http import install_log_redaction, rewrite_base_middleware
from channels.settings import X_DEFAULT_BASE_URL, XSettings
from channels.x_normalize import XAccounts, normalize_payload, v2_posts

log = logging.getLogger(__name__)

TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "public_metrics",
    "lang",
    "entities",
    "note_tweet",
]
EXPANSIONS = ["author_id", "in_reply_to_user_id", "referenced_tweets.id"]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "verified_type"]
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)  # a 429 without x-rate-limit-reset
SERVER_ERROR_WAIT = timedelta(seconds=30)
CLIENT_ERROR_WAIT = timedelta(minutes=5)  # 400/401/403 on a poll: configuration, don't hammer

Fetch = Callable[[str | None, str | None], Awaitable[aiohttp.ClientResponse]]


def _secret(value: str | SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def crc_response(consumer_secret: str | SecretStr, crc_token: str) -> dict[str, str]:
    """Answer to X's GET ?crc_token=…: base64 HMAC-SHA256 keyed with the consumer (API) secret."""
    digest = hmac.new(_secret(consumer_secret).encode(), crc_token.encode(), hashlib.sha256).digest()
    return {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def verify_x_signature(consumer_secret: str | SecretStr | None, raw_body: bytes, header: str | None) -> None:
    """Check `x-twitter-webhooks-signature: sha256=<base64>` over the exact raw body."""
    key = _secret(consumer_secret)
    if not key:
        raise WebhookRejected(503, "X_CONSUMER_SECRET is not configured")
    if not header:
        raise WebhookRejected(401, "missing x-twitter-webhooks-signature header")
    if not header.startswith("sha256="):
        raise WebhookRejected(401, "x-twitter-webhooks-signature must start with sha256=")
    expected = (
        "sha256=" + base64.b64encode(hmac.new(key.encode(), raw_body, hashlib.sha256).digest()).decode()
    )
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise WebhookRejected(403, "x-twitter-webhooks-signature does not match the body")


def _reset_at(headers: Mapping[str, str], now: datetime) -> datetime | None:
    reset = headers.get("x-rate-limit-reset")
    if reset is None or not reset.strip().isdigit():
        return None
    return max(datetime.fromtimestamp(int(reset), tz=UTC), now + timedelta(seconds=1))


async def _problem(exc: tweepy.HTTPException) -> str:
    """The reason in an error body: problem+json (title/detail/type) or the legacy {"errors": [...]}."""
    try:
        body = await exc.response.json()
    except (ValueError, aiohttp.ClientError):
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("title", "detail", "type") if body.get(k)]
    parts += [str(e.get("message", e)) for e in body.get("errors") or [] if isinstance(e, dict)]
    return "; ".join(parts)


async def _rate_limited(exc: tweepy.TooManyRequests, now: datetime) -> RateLimited:
    # a 429 is either a rate limit or a spent usage cap (type .../usage-capped); both carry the reset
    capped = "usage-capped" in await _problem(exc)
    retry_at = _reset_at(exc.response.headers, now) or now + DEFAULT_RATE_LIMIT_WAIT
    return RateLimited(retry_at, "X usage cap reached" if capped else "X rate limit")


def search_key(query: str) -> str:
    """Checkpoint key of a search query; long queries (up to 512 chars) are hashed to fit the key column."""
    if len(query) <= 200:
        return f"x:search:{query}"
    return "x:search:sha256:" + hashlib.sha256(query.encode()).hexdigest()


class XAdapter:
    """Implements PollingAdapter and ReplyingAdapter for channel "x"."""

    name = "x"

    def __init__(
        self,
        settings: XSettings,
        checkpoints: CheckpointStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.checkpoints = checkpoints
        self.accounts = XAccounts(dict(settings.brand_accounts))
        self.clock = clock
        self._client: AsyncClient | None = None
        install_log_redaction()

    def __repr__(self) -> str:
        return f"XAdapter(base_url={self.settings.api_base_url!r}, accounts={list(self.accounts.by_handle)})"

    async def __aenter__(self) -> XAdapter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None and self._client.session is not None:
            await self._client.session.close()
        self._client = None

    def client(self) -> AsyncClient:
        """The tweepy client, bound to a session we own (one per adapter; call inside the event loop)."""
        if self._client is None:
            s = self.settings
            client = AsyncClient(
                bearer_token=_secret(s.bearer_token) or None,
                consumer_key=_secret(s.consumer_key) or None,
                consumer_secret=_secret(s.consumer_secret) or None,
                access_token=_secret(s.access_token) or None,
                access_token_secret=_secret(s.access_token_secret) or None,
                return_type=aiohttp.ClientResponse,
                wait_on_rate_limit=False,  # tweepy would sleep (or spin without a reset header)
            )
            client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=s.timeout_seconds),
                middlewares=(rewrite_base_middleware(X_DEFAULT_BASE_URL, s.api_base_url),),
            )
            self._client = client
        return self._client

    def normalize(self, payload: Mapping[str, Any]) -> Sequence[InboundPost]:
        return normalize_payload(payload, self.accounts)

    # --- polling -------------------------------------------------------------------------------

    def _sources(self) -> list[tuple[str, str | None, Fetch]]:
        sources: list[tuple[str, str | None, Fetch]] = []
        fields: dict[str, Any] = {
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        max_results = self.settings.max_results

        for query in self.settings.search_queries:

            async def search(since: str | None, token: str | None, q: str = query) -> aiohttp.ClientResponse:
                return await self.client().search_recent_tweets(
                    q, since_id=since, next_token=token, max_results=max_results, **fields
                )

            sources.append((search_key(query), None, search))
        for handle, user_id in self.accounts.by_handle.items():

            async def mentions(
                since: str | None, token: str | None, uid: str = user_id
            ) -> aiohttp.ClientResponse:
                return await self.client().get_users_mentions(
                    uid, since_id=since, pagination_token=token, max_results=max_results, **fields
                )

            sources.append((f"x:mentions:{user_id}", handle, mentions))
        return sources

    async def poll(self, sink: PostSink) -> PollReport:
        """One sweep over every configured query and brand mentions timeline.

        Never sleeps: a rate-limited or failing source is skipped until its `not_before`, and the
        earliest of those is returned as `retry_at` for the caller to reschedule.
        """
        total, retry_times, errors = 0, [], []
        for key, account, fetch in self._sources():
            count, retry_at, error = await self._poll_source(key, account, fetch, sink)
            total += count
            if retry_at is not None:
                retry_times.append(retry_at)
            if error:
                errors.append(error)
        return PollReport(posts=total, retry_at=min(retry_times, default=None), errors=tuple(errors))

    async def _poll_source(
        self, key: str, account: str | None, fetch: Fetch, sink: PostSink
    ) -> tuple[int, datetime | None, str | None]:
        state: dict[str, str] = json.loads(await self.checkpoints.get(key) or "{}")
        now = self.clock()
        if "not_before" in state and datetime.fromisoformat(state["not_before"]) > now:
            return 0, datetime.fromisoformat(state["not_before"]), None
        state.pop("not_before", None)
        # since_id stays fixed for the whole sweep; the new one is the first page's meta.newest_id
        since, token, pending = state.get("since_id"), state.get("next_token"), state.get("pending_newest")
        count = 0
        for _ in range(self.settings.max_pages_per_poll):
            wait: datetime | None = None
            error: str | None = None
            try:
                response = await fetch(since, token)
                body = await response.json()
            except tweepy.TooManyRequests as exc:
                limited = await _rate_limited(exc, now)
                wait, error = limited.retry_at, None
                log.warning("%s: %s until %s", key, limited.reason, wait.isoformat())
            except (tweepy.TwitterServerError, aiohttp.ClientError, TimeoutError) as exc:
                wait, error = now + SERVER_ERROR_WAIT, f"{key}: {type(exc).__name__}"
            except tweepy.HTTPException as exc:
                wait = now + CLIENT_ERROR_WAIT
                error = f"{key}: HTTP {exc.response.status} {await _problem(exc)}"
            if wait is not None:
                await self._save(key, since, token, pending, wait)
                if error:
                    log.error("poll failed, %s", error)
                return count, wait, error
            meta = body.get("meta") or {}
            if token is None:
                pending = meta.get("newest_id") or pending
            posts = v2_posts(body, self.accounts, account=account)
            if posts:
                await sink(posts)
                count += len(posts)
            token = meta.get("next_token")
            if token is None:
                since, pending = pending or since, None
            reset = _reset_at(response.headers, now)
            exhausted = response.headers.get("x-rate-limit-remaining") == "0" and reset is not None
            await self._save(key, since, token, pending, reset if exhausted else None)
            if exhausted:
                log.info("%s: rate-limit budget used up, next call after %s", key, reset)
                return count, reset, None
            if token is None:
                break
        return count, None, None

    async def _save(
        self, key: str, since: str | None, token: str | None, pending: str | None, not_before: datetime | None
    ) -> None:
        state = {"since_id": since, "next_token": token, "pending_newest": pending}
        if not_before is not None:
            state["not_before"] = not_before.isoformat()
        await self.checkpoints.set(key, json.dumps({k: v for k, v in state.items() if v is not None}))

    # --- replying ------------------------------------------------------------------------------

    async def reply(
        self, in_reply_to_platform_id: str, text: str, *, conversation_id: str | None = None
    ) -> str:
        """POST /2/tweets as the brand (OAuth 1.0a user context); returns the new post's id."""
        s = self.settings
        if not all((s.consumer_key, s.consumer_secret, s.access_token, s.access_token_secret)):
            raise ReplyRejected(
                "replying on X needs X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET"
            )
        try:
            response = await self.client().create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to_platform_id, user_auth=True
            )
            body = await response.json()
        except tweepy.TooManyRequests as exc:
            raise await _rate_limited(exc, self.clock()) from exc
        except (tweepy.TwitterServerError, aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelUnavailable(f"X reply failed: {type(exc).__name__}") from exc
        except tweepy.HTTPException as exc:
            raise ReplyRejected(
                f"X refused the reply: HTTP {exc.response.status} {exc.api_messages}"
            ) from exc
        return str(body["data"]["id"])
