"""Pure translation of Facebook Page webhooks (feed changes, Messenger) and Graph API items to posts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from channels.base import Author, Direction, InboundPost

CHANNEL = "facebook"
MESSENGER_CHANNEL = "messenger"
POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})
VERBS = frozenset({"add", "edited", "remove"})  # hide/unhide, reactions and likes are not posts


def parse_time(value: Any, fallback: Any = None) -> datetime:
    """Graph times come as epoch seconds (webhooks), epoch ms (Messenger) or '2025-03-22T18:20:04+0000'."""
    if value is None or value == "":
        if fallback is None:
            return datetime.now(UTC)
        return parse_time(fallback)
    if isinstance(value, int | float) or str(value).isdigit():
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
    return datetime.fromisoformat(str(value))


def _author(sender: Mapping[str, Any] | None) -> Author:
    sender = sender or {}
    user_id = str(sender["id"]) if sender.get("id") else None
    name = sender.get("name")
    return Author(handle=name or user_id or "facebook-user", platform_user_id=user_id, display_name=name)


def _post_url(post_id: str, comment_id: str | None = None) -> str:
    url = f"https://www.facebook.com/{post_id}"
    return f"{url}?comment_id={comment_id.rsplit('_', 1)[-1]}" if comment_id else url


def feed_change(
    value: Mapping[str, Any], *, page_id: str, account: str, entry_time: Any
) -> InboundPost | None:
    """One `feed` change. Edits re-send the same id with the new text; removals keep only the id."""
    item, verb = value.get("item"), value.get("verb")
    if verb not in VERBS or (item != "comment" and item not in POST_ITEMS):
        return None
    post_id = str(value.get("post_id") or "")
    platform_id = str(value.get("comment_id") or "") if item == "comment" else post_id
    if not platform_id:
        return None
    sender = value.get("from") or {}
    return InboundPost(
        channel=CHANNEL,
        platform_id=platform_id,
        account=account,
        author=_author(sender),
        text=str(value.get("message") or ""),
        created_at=parse_time(value.get("created_time"), entry_time),
        url=_post_url(post_id, platform_id if item == "comment" else None) if post_id else None,
        in_reply_to=str(value["parent_id"]) if item == "comment" and value.get("parent_id") else None,
        conversation_id=post_id or None,
        direction=Direction.OUTBOUND if str(sender.get("id")) == page_id else Direction.INBOUND,
        removed=verb == "remove",
        raw={"feed": dict(value), "page_id": page_id},
    )


def messenger_message(event: Mapping[str, Any], *, page_id: str, account: str) -> InboundPost | None:
    """A Messenger `messaging` event; echoes of our own sends and non-message events give None."""
    message = event.get("message")
    if not isinstance(message, Mapping) or message.get("is_echo") or not message.get("mid"):
        return None
    psid = str((event.get("sender") or {}).get("id") or "")
    if not psid or psid == page_id:
        return None
    text = message.get("text") or " ".join(
        f"[{a.get('type', 'attachment')}]" for a in message.get("attachments") or []
    )
    reply_to = (message.get("reply_to") or {}).get("mid")
    return InboundPost(
        channel=MESSENGER_CHANNEL,
        platform_id=str(message["mid"]),
        account=account,
        author=Author(handle=psid, platform_user_id=psid),
        text=str(text),
        created_at=parse_time(event.get("timestamp")),
        in_reply_to=str(reply_to) if reply_to else None,
        conversation_id=f"messenger:{psid}",
        raw={"messaging": dict(event), "page_id": page_id},
    )


def webhook_posts(payload: Mapping[str, Any], *, page_names: Mapping[str, str]) -> list[InboundPost]:
    """An `object: page` delivery (up to 1,000 changes). Messenger mids repeated in a batch appear once."""
    if payload.get("object") != "page":
        return []
    posts: list[InboundPost] = []
    seen_mids: set[str] = set()
    for entry in payload.get("entry") or []:
        page_id = str(entry.get("id") or "")
        account = page_names.get(page_id, page_id or CHANNEL)
        for change in entry.get("changes") or []:
            if change.get("field") == "feed" and isinstance(change.get("value"), Mapping):
                post = feed_change(
                    change["value"], page_id=page_id, account=account, entry_time=entry.get("time")
                )
                if post is not None:
                    posts.append(post)
        for event in entry.get("messaging") or []:
            post = messenger_message(event, page_id=page_id, account=account)
            if post is not None and post.platform_id not in seen_mids:
                seen_mids.add(post.platform_id)
                posts.append(post)
    return posts


def graph_post(item: Mapping[str, Any], *, page_id: str, account: str) -> InboundPost:
    """An item of GET /{page-id}/feed?fields=id,message,created_time,from,permalink_url."""
    sender = item.get("from") or {}
    return InboundPost(
        channel=CHANNEL,
        platform_id=str(item["id"]),
        account=account,
        author=_author(sender),
        text=str(item.get("message") or ""),
        created_at=parse_time(item.get("created_time")),
        url=item.get("permalink_url") or _post_url(str(item["id"])),
        conversation_id=str(item["id"]),
        direction=Direction.OUTBOUND if str(sender.get("id")) == page_id else Direction.INBOUND,
        raw={"graph_post": dict(item), "page_id": page_id},
    )


def graph_comment(item: Mapping[str, Any], *, post_id: str, page_id: str, account: str) -> InboundPost:
    """An item of GET /{post-id}/comments?filter=stream&fields=id,message,created_time,from,parent."""
    sender = item.get("from") or {}
    parent = (item.get("parent") or {}).get("id") or post_id
    return InboundPost(
        channel=CHANNEL,
        platform_id=str(item["id"]),
        account=account,
        author=_author(sender),
        text=str(item.get("message") or ""),
        created_at=parse_time(item.get("created_time")),
        url=_post_url(post_id, str(item["id"])),
        in_reply_to=str(parent),
        conversation_id=post_id,
        direction=Direction.OUTBOUND if str(sender.get("id")) == page_id else Direction.INBOUND,
        raw={"graph_comment": dict(item), "page_id": page_id},
    )
