"""The generic source: normalized posts POSTed to /ingest/{source}, signed with a per-source secret.

Signature: `X-Engage-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with the
same `<timestamp>` (Unix seconds) in `X-Engage-Timestamp`. The timestamp is inside the MAC so a captured
delivery cannot be replayed later with a fresh header; deliveries older than 5 minutes are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError

from channels.base import InboundPost, WebhookRejected

SIGNATURE_HEADER = "X-Engage-Signature"
TIMESTAMP_HEADER = "X-Engage-Timestamp"
MAX_AGE_SECONDS = 300
MAX_BATCH = 1000
SOURCE_PATTERN = re.compile(r"^[a-z0-9_\-]{1,40}$")


def _secret(value: str | SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def sign(secret: str | SecretStr, timestamp: str, raw_body: bytes) -> str:
    """The header value a sender computes; the same as `openssl dgst -sha256 -hmac` over ts.body."""
    mac = hmac.new(_secret(secret).encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_ingest_signature(
    secret: str | SecretStr | None,
    raw_body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
) -> None:
    key = _secret(secret)
    if not key:
        raise WebhookRejected(404, "unknown ingest source (no INGEST_SECRET_<SOURCE> configured)")
    if not signature or not timestamp:
        raise WebhookRejected(401, f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    if not timestamp.strip().isdigit():
        raise WebhookRejected(401, f"{TIMESTAMP_HEADER} must be Unix seconds")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > MAX_AGE_SECONDS:
        raise WebhookRejected(401, f"{TIMESTAMP_HEADER} is more than {MAX_AGE_SECONDS} s away from now")
    if not hmac.compare_digest(
        sign(key, timestamp.strip(), raw_body).encode(), signature.strip().lower().encode()
    ):
        raise WebhookRejected(403, f"{SIGNATURE_HEADER} does not match the body")


def _field(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def parse_posts(source: str, payload: Any) -> list[InboundPost]:
    """One InboundPost object or {"posts": [...]}; `channel` defaults to the source and must equal it."""
    if not SOURCE_PATTERN.match(source):
        raise WebhookRejected(400, "source must match [a-z0-9_-]{1,40}")
    if isinstance(payload, Mapping) and set(payload) == {"posts"}:
        items, prefix = payload["posts"], "posts"
        if not isinstance(items, list) or not items:
            raise WebhookRejected(422, "posts: must be a non-empty list")
        if len(items) > MAX_BATCH:
            raise WebhookRejected(422, f"posts: at most {MAX_BATCH} posts per request")
    elif isinstance(payload, Mapping):
        items, prefix = [payload], ""
    else:
        raise WebhookRejected(422, 'body: must be a post object or {"posts": [...]}')
    posts: list[InboundPost] = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]" if prefix else ""
        if not isinstance(item, Mapping):
            raise WebhookRejected(422, f"{where or 'body'}: must be an object")
        channel = item.get("channel", source)
        if channel != source:
            raise WebhookRejected(
                422, f"{where + '.' if where else ''}channel: must be {source!r} or omitted"
            )
        try:
            posts.append(InboundPost.model_validate({**item, "channel": source}))
        except ValidationError as exc:
            first = exc.errors()[0]
            head: list[int | str] = [prefix, index] if prefix else []
            field = _field([*head, *first["loc"]])
            raise WebhookRejected(422, f"{field}: {first['msg']}") from None
    return posts


def parse_body(source: str, raw_body: bytes) -> list[InboundPost]:
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected(400, f"body: not valid JSON ({exc})") from None
    return parse_posts(source, payload)


class SignedWebhookAdapter:
    """One generic source. `normalize` takes the already verified JSON payload."""

    def __init__(self, source: str, secret: str | SecretStr | None) -> None:
        self.name = source
        self._secret = secret if isinstance(secret, SecretStr) or secret is None else SecretStr(secret)

    def __repr__(self) -> str:
        return f"SignedWebhookAdapter(source={self.name!r})"

    def verify(self, raw_body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> None:
        verify_ingest_signature(
            self._secret,
            raw_body,
            signature=headers.get(SIGNATURE_HEADER),
            timestamp=headers.get(TIMESTAMP_HEADER),
            now=now,
        )

    def normalize(self, payload: Mapping[str, Any]) -> Sequence[InboundPost]:
        return parse_posts(self.name, payload)
