"""Facebook Pages through facebook-sdk's GraphAPI: webhook checks, polling fallback, comment replies.

facebook-sdk is synchronous (requests), so every call runs in a worker thread (asyncio.to_thread).
Its host is a module constant and its version check rejects "v24.0": we inject a session whose
adapter rewrites https://graph.facebook.com/ to FACEBOOK_GRAPH_URL and set `graph.version` after
construction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import facebook
import requests
from pydantic import SecretStr

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
from channels.facebook_normalize import graph_comment, graph_post, parse_time, webhook_posts
from channels.http import install_log_redaction, rewriting_session
from channels.settings import FACEBOOK_DEFAULT_GRAPH_URL, FacebookSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2})
TRANSIENT_WAIT = timedelta(seconds=30)
CLIENT_ERROR_WAIT = timedelta(minutes=5)
POST_FIELDS = "id,message,created_time,from,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from,parent"


def _secret(value: str | SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def verify_subscription(params: Mapping[str, str], verify_token: str | SecretStr | None) -> str:
    """The GET handshake: hub.mode=subscribe and our verify token -> echo hub.challenge as text."""
    expected = _secret(verify_token)
    if not expected:
        raise WebhookRejected(503, "FACEBOOK_VERIFY_TOKEN is not configured")
    if params.get("hub.mode") != "subscribe":
        raise WebhookRejected(403, "hub.mode must be subscribe")
    if not hmac.compare_digest(params.get("hub.verify_token", "").encode(), expected.encode()):
        raise WebhookRejected(403, "hub.verify_token does not match")
    challenge = params.get("hub.challenge", "")
    if not challenge:
        raise WebhookRejected(400, "hub.challenge is missing")
    return challenge


def verify_facebook_signature(
    app_secret: str | SecretStr | None, raw_body: bytes, header: str | None
) -> None:
    """Check `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""
    key = _secret(app_secret)
    if not key:
        raise WebhookRejected(503, "FACEBOOK_APP_SECRET is not configured")
    if not header:
        raise WebhookRejected(401, "missing X-Hub-Signature-256 header")
    if not header.startswith("sha256="):
        raise WebhookRejected(401, "X-Hub-Signature-256 must start with sha256=")
    expected = "sha256=" + hmac.new(key.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.strip().lower().encode()):
        raise WebhookRejected(403, "X-Hub-Signature-256 does not match the body")


class _Watermark:
    """Newest created_time seen, plus the ids seen at exactly that second (Graph times are seconds)."""

    def __init__(self, raw: str | None) -> None:
        state = json.loads(raw or "{}")
        self.time: datetime | None = datetime.fromisoformat(state["t"]) if state.get("t") else None
        self.ids: set[str] = set(state.get("ids", []))

    def is_new(self, item_id: str, created: datetime) -> bool:
        return self.time is None or created > self.time or (created == self.time and item_id not in self.ids)

    def advance(self, item_id: str, created: datetime) -> None:
        if self.time is None or created > self.time:
            self.time, self.ids = created, {item_id}
        elif created == self.time:
            self.ids.add(item_id)

    def dump(self) -> str:
        return json.dumps({"t": self.time.isoformat() if self.time else None, "ids": sorted(self.ids)})


class FacebookAdapter:
    """Implements PollingAdapter and ReplyingAdapter for channels "facebook" and "messenger"."""

    name = "facebook"

    def __init__(
        self,
        settings: FacebookSettings,
        checkpoints: CheckpointStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.checkpoints = checkpoints
        self.clock = clock
        self.page_id = settings.page_id or ""
        self.account = settings.page_name or self.page_id or "facebook"
        self._local = threading.local()
        self._graph: facebook.GraphAPI | None = None
        install_log_redaction()

    def __repr__(self) -> str:
        return f"FacebookAdapter(graph_url={self.settings.graph_url!r}, page_id={self.page_id!r})"

    async def __aenter__(self) -> FacebookAdapter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._graph is not None:
            self._graph.session.close()
        self._graph = None

    def graph(self) -> facebook.GraphAPI:
        if self._graph is None:
            s = self.settings
            session = rewriting_session(FACEBOOK_DEFAULT_GRAPH_URL, s.graph_url, s.timeout_seconds)
            session.hooks["response"].append(self._remember_usage)
            graph = facebook.GraphAPI(
                access_token=_secret(s.page_token) or None, timeout=s.timeout_seconds, session=session
            )
            graph.version = s.graph_version  # the sdk's constructor only accepts versions up to 3.1
            self._graph = graph
        return self._graph

    def _remember_usage(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.usage = response.headers.get("X-Business-Use-Case-Usage")

    def normalize(self, payload: Mapping[str, Any]) -> Sequence[InboundPost]:
        names = {self.page_id: self.account} if self.page_id else {}
        return webhook_posts(payload, page_names=names)

    # --- calling the sdk off the event loop ----------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            self._local.usage = None
            try:
                return fn(*args, **kwargs)
            except facebook.GraphAPIError as exc:
                exc.usage_header = self._local.usage
                raise

        try:
            return await asyncio.to_thread(run)
        except facebook.GraphAPIError as exc:
            raise self._translate(exc) from exc
        except (requests.RequestException, KeyError, ValueError) as exc:
            raise ChannelUnavailable(f"Graph API call failed: {type(exc).__name__}") from exc

    def _regain_at(self, exc: facebook.GraphAPIError) -> datetime:
        minutes = 0.0
        try:
            usage = json.loads(getattr(exc, "usage_header", None) or "{}")
            minutes = max(
                float(b.get("estimated_time_to_regain_access") or 0) for v in usage.values() for b in v
            )
        except (ValueError, TypeError, AttributeError):
            pass
        seconds = minutes * 60 if minutes > 0 else self.settings.throttle_backoff_seconds
        return self.clock() + timedelta(seconds=seconds)

    def _translate(self, exc: facebook.GraphAPIError) -> Exception:
        code = exc.code
        if code in THROTTLE_CODES:
            return RateLimited(self._regain_at(exc), f"Graph API throttled (code {code})")
        transient = isinstance(exc.result, dict) and (exc.result.get("error") or {}).get("is_transient")
        if code in TRANSIENT_CODES or transient or code is None:
            return ChannelUnavailable(f"Graph API error {code}: {exc.message}")
        return ReplyRejected(f"Graph API error {code} ({exc.type}): {exc.message}")

    # --- polling -------------------------------------------------------------------------------

    async def poll(self, sink: PostSink) -> PollReport:
        """Fallback for missed webhooks: the newest page posts, then new comments on each of them."""
        if not self.page_id:
            return PollReport(errors=("FACEBOOK_PAGE_ID is not configured",))
        gate_key = f"facebook:{self.page_id}:not_before"
        not_before = await self.checkpoints.get(gate_key)
        if not_before and datetime.fromisoformat(not_before) > self.clock():
            return PollReport(retry_at=datetime.fromisoformat(not_before))
        count = 0
        try:
            feed = await self._call(
                self.graph().get_connections,
                self.page_id,
                "feed",
                fields=POST_FIELDS,
                limit=self.settings.poll_recent_posts,
            )
            items = feed.get("data") or []
            count += await self._emit_new(
                f"facebook:{self.page_id}:feed",
                items,
                lambda i: graph_post(i, page_id=self.page_id, account=self.account),
                sink,
            )
            for item in items:
                count += await self._poll_comments(str(item["id"]), sink)
        except RateLimited as exc:
            await self.checkpoints.set(gate_key, exc.retry_at.isoformat())
            log.warning("facebook poll throttled until %s", exc.retry_at.isoformat())
            return PollReport(posts=count, retry_at=exc.retry_at)
        except (ChannelUnavailable, ReplyRejected) as exc:
            wait = TRANSIENT_WAIT if isinstance(exc, ChannelUnavailable) else CLIENT_ERROR_WAIT
            retry_at = self.clock() + wait
            await self.checkpoints.set(gate_key, retry_at.isoformat())
            log.error("facebook poll failed: %s", exc)
            return PollReport(posts=count, retry_at=retry_at, errors=(str(exc),))
        return PollReport(posts=count)

    async def _poll_comments(self, post_id: str, sink: PostSink) -> int:
        key = f"facebook:comments:{post_id}"
        mark = _Watermark(await self.checkpoints.get(key))
        fresh: list[dict[str, Any]] = []
        after: str | None = None
        while True:  # newest first; stop at the first page that reaches what we already have
            page = await self._call(
                self.graph().get_connections,
                post_id,
                "comments",
                filter="stream",
                order="reverse_chronological",
                fields=COMMENT_FIELDS,
                limit=100,
                **({"after": after} if after else {}),
            )
            data = page.get("data") or []
            fresh.extend(data)
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            reached_old = any(not mark.is_new(str(c["id"]), parse_time(c.get("created_time"))) for c in data)
            if reached_old or not data or not (page.get("paging") or {}).get("next"):
                break
        return await self._emit_new(
            key,
            fresh,
            lambda c: graph_comment(c, post_id=post_id, page_id=self.page_id, account=self.account),
            sink,
        )

    async def _emit_new(
        self,
        key: str,
        items: list[dict[str, Any]],
        convert: Callable[[dict[str, Any]], InboundPost],
        sink: PostSink,
    ) -> int:
        mark = _Watermark(await self.checkpoints.get(key))
        posts = [convert(i) for i in items]
        new = sorted(
            (p for p in posts if mark.is_new(p.platform_id, p.created_at)), key=lambda p: p.created_at
        )
        if not new:
            return 0
        await sink(new)
        for post in new:
            mark.advance(post.platform_id, post.created_at)
        await self.checkpoints.set(key, mark.dump())
        return len(new)

    # --- replying ------------------------------------------------------------------------------

    async def reply(
        self, in_reply_to_platform_id: str, text: str, *, conversation_id: str | None = None
    ) -> str:
        """Reply to a comment (POST /{comment-id}/comments) or, for Messenger, send to the PSID."""
        if not self.settings.page_token:
            raise ReplyRejected("replying on Facebook needs FACEBOOK_PAGE_TOKEN")
        graph = self.graph()
        if conversation_id and conversation_id.startswith("messenger:"):
            psid = conversation_id.removeprefix("messenger:")
            result = await self._call(
                graph.put_object,
                self.page_id,
                "messages",
                recipient=json.dumps({"id": psid}),
                messaging_type="RESPONSE",
                message=json.dumps({"text": text}),
            )
            return str(result["message_id"])
        result = await self._call(graph.put_object, in_reply_to_platform_id, "comments", message=text)
        return str(result["id"])
