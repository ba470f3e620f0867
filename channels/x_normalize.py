"""Pure translation of X payloads (v2 API pages, Account Activity events, X Activity events) to posts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channels.base import Author, Direction, InboundPost, WebhookRejected

CHANNEL = "x"
TWITTER_EPOCH_MS = 1288834974657
VERIFIED_TYPES = frozenset({"blue", "business", "government"})


@dataclass(frozen=True)
class XAccounts:
    """The brand accounts: handle -> user id. Posts by these ids are our own (OUTBOUND)."""

    by_handle: Mapping[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.by_handle.values())

    @property
    def default(self) -> str:
        return next(iter(self.by_handle), CHANNEL)

    def handle_for_id(self, user_id: str | None) -> str | None:
        for handle, uid in self.by_handle.items():
            if uid == user_id:
                return handle
        return None

    def has_handle(self, handle: str) -> str | None:
        for known in self.by_handle:
            if known.lower() == handle.lower():
                return known
        return None


def snowflake_time(post_id: str) -> datetime:
    """Creation time encoded in every X id; the fallback when created_at was not requested."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)


def _lang(value: Any) -> str | None:
    return None if not value or value == "und" else str(value)[:16]


def _v2_time(tweet: Mapping[str, Any]) -> datetime:
    created = tweet.get("created_at")
    if created:
        return datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    return snowflake_time(str(tweet["id"]))


def _v2_account(tweet: Mapping[str, Any], accounts: XAccounts, account: str | None) -> str:
    if account:
        return account
    for mention in (tweet.get("entities") or {}).get("mentions") or []:
        known = accounts.has_handle(str(mention.get("username", "")))
        if known:
            return known
    return accounts.handle_for_id(tweet.get("in_reply_to_user_id")) or accounts.default


def v2_post(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    accounts: XAccounts,
    *,
    account: str | None = None,
) -> InboundPost:
    post_id = str(tweet["id"])
    author_id = str(tweet["author_id"]) if tweet.get("author_id") else None
    user = users.get(author_id or "", {})
    username = user.get("username")
    metrics = user.get("public_metrics") or {}
    replied_to = [r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"]
    note = tweet.get("note_tweet") or {}
    return InboundPost(
        channel=CHANNEL,
        platform_id=post_id,
        account=_v2_account(tweet, accounts, account),
        author=Author(
            handle=username or author_id or "unknown",
            platform_user_id=author_id,
            display_name=user.get("name"),
            followers=int(metrics.get("followers_count") or 0),
            verified=bool(user.get("verified")) or user.get("verified_type") in VERIFIED_TYPES,
        ),
        text=note.get("text") or tweet.get("text") or "",
        lang=_lang(tweet.get("lang")),
        created_at=_v2_time(tweet),
        url=f"https://x.com/{username or 'i/web'}/status/{post_id}",
        in_reply_to=str(replied_to[0]) if replied_to else None,
        conversation_id=tweet.get("conversation_id"),
        direction=Direction.OUTBOUND if author_id in accounts.ids else Direction.INBOUND,
        raw={"tweet": dict(tweet), "author": dict(user)} if user else {"tweet": dict(tweet)},
    )


def v2_posts(
    payload: Mapping[str, Any], accounts: XAccounts, *, account: str | None = None
) -> list[InboundPost]:
    """A v2 response: `data` (list or one post) plus `includes.users`; an empty page has no `data`."""
    data = payload.get("data")
    tweets = [data] if isinstance(data, Mapping) else list(data or [])
    users = {str(u["id"]): u for u in (payload.get("includes") or {}).get("users") or []}
    return [v2_post(t, users, accounts, account=account) for t in tweets]


def activity_posts(payload: Mapping[str, Any], accounts: XAccounts) -> list[InboundPost]:
    """X Activity API envelope: {"data": {"event_type": "post.mention.create", "payload": <v2 post>, ...}}."""
    event = payload["data"]
    if not str(event.get("event_type", "")).startswith("post.") or not event.get("payload"):
        return []
    watched = accounts.handle_for_id((event.get("filter") or {}).get("user_id"))
    page = {"data": event["payload"], "includes": event.get("includes") or {}}
    return v2_posts(page, accounts, account=watched)


def _v1_time(status: Mapping[str, Any]) -> datetime:
    if status.get("timestamp_ms"):
        return datetime.fromtimestamp(int(status["timestamp_ms"]) / 1000, tz=UTC)
    if status.get("created_at"):
        return datetime.strptime(str(status["created_at"]), "%a %b %d %H:%M:%S %z %Y")
    return snowflake_time(str(status["id_str"]))


def _v1_text(status: Mapping[str, Any]) -> str:
    extended = status.get("extended_tweet") or {}
    if status.get("truncated") and extended.get("full_text"):
        return str(extended["full_text"])
    return str(status.get("full_text") or status.get("text") or "")


def account_activity_posts(payload: Mapping[str, Any], accounts: XAccounts) -> list[InboundPost]:
    """Account Activity (v1.1 native objects). Always use the *_str ids: the numeric ones lose precision.

    The brand's own posts arrive too; they are kept as OUTBOUND (they are our replies, possibly typed in
    the X app) so ingest can record them as responses instead of opening cases. Retweets carry no new
    text and are skipped.
    """
    for_user_id = str(payload.get("for_user_id", ""))
    account = accounts.handle_for_id(for_user_id) or for_user_id or accounts.default
    own_ids = accounts.ids | {for_user_id}
    posts: list[InboundPost] = []
    for index, status in enumerate(payload.get("tweet_create_events") or []):
        if not isinstance(status, Mapping):
            raise WebhookRejected(422, f"tweet_create_events[{index}]: must be an object")
        if status.get("retweeted_status"):
            continue
        user = status.get("user") or {}
        user_id = str(user.get("id_str") or "") or None
        handle = user.get("screen_name") or user_id or "unknown"
        post_id = str(status["id_str"])
        posts.append(
            InboundPost(
                channel=CHANNEL,
                platform_id=post_id,
                account=account,
                author=Author(
                    handle=handle,
                    platform_user_id=user_id,
                    display_name=user.get("name"),
                    followers=int(user.get("followers_count") or 0),
                    verified=bool(user.get("verified")),
                ),
                text=_v1_text(status),
                lang=_lang(status.get("lang")),
                created_at=_v1_time(status),
                url=f"https://x.com/{handle}/status/{post_id}",
                in_reply_to=status.get("in_reply_to_status_id_str"),
                direction=Direction.OUTBOUND if user_id in own_ids else Direction.INBOUND,
                raw={"tweet_create_event": dict(status), "for_user_id": for_user_id},
            )
        )
    for event in payload.get("tweet_delete_events") or []:
        status = event.get("status") or {}
        user_id = str(status.get("user_id") or "") or None
        post_id = str(status["id"])
        # A removal names only the post: ingest marks the stored post removed and keeps the rest.
        posts.append(
            InboundPost(
                channel=CHANNEL,
                platform_id=post_id,
                account=account,
                author=Author(handle=user_id or "unknown", platform_user_id=user_id),
                created_at=_v1_time({**event, "id_str": post_id}),
                direction=Direction.OUTBOUND if user_id in own_ids else Direction.INBOUND,
                removed=True,
                raw={"tweet_delete_event": dict(event), "for_user_id": for_user_id},
            )
        )
    return posts


def normalize_payload(payload: Mapping[str, Any], accounts: XAccounts) -> list[InboundPost]:
    if "for_user_id" in payload:
        return account_activity_posts(payload, accounts)
    data = payload.get("data")
    if isinstance(data, Mapping) and "event_type" in data:
        return activity_posts(payload, accounts)
    return v2_posts(payload, accounts)
