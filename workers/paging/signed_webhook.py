"""A generic signed webhook: JSON POSTed to any URL, signed like our own ingest endpoint.

`X-Engage-Timestamp: <Unix seconds>` and `X-Engage-Signature: sha256=<hex HMAC-SHA256(secret,
"<timestamp>.<raw body>")>` (channels/signed_webhook.py: one scheme for both directions, so a
receiver can use `verify_ingest_signature`). The timestamp is inside the MAC so a captured
delivery cannot be replayed with a fresh header; it is also in the body as `sent_at`.
`Idempotency-Key` is the same for retries of one page, so a receiver can drop repeats.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from channels.signed_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from workers.paging.base import Page, PageResult, retryable_http
from workers.paging.http import DEFAULT_TIMEOUT_SECONDS, Unreachable, post

EVENT_TYPE = "engage.page"


def body(page: Page, sent_at: int) -> dict[str, Any]:
    return {
        "type": EVENT_TYPE,
        "action": page.action.value,
        "dedup_key": page.dedup_key,
        "summary": page.summary,
        "severity": page.severity.value,
        "source": page.source,
        "to": page.to,
        "link": page.link,
        "details": dict(page.details),
        "at": page.at.isoformat(),
        "sent_at": sent_at,
    }


class SignedWebhookPager:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not secret:
            raise ValueError("a signed webhook needs a secret")
        self.url = url
        self._secret = secret
        self._session = session
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SignedWebhookPager(url={self.url!r}, secret=***)"

    async def send(self, page: Page, *, now: float | None = None) -> PageResult:
        sent_at = int(time.time() if now is None else now)
        raw = json.dumps(body(page, sent_at), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(sent_at),
            SIGNATURE_HEADER: sign(self._secret, str(sent_at), raw),
            "Idempotency-Key": page.idempotency_key,
        }
        try:
            reply = await post(self.url, raw, headers, session=self._session, time_limit=self._timeout)
        except Unreachable as exc:
            return PageResult(self.name, False, page.dedup_key, None, str(exc), retryable=True)
        ok = 200 <= reply.status < 300
        return PageResult(
            self.name,
            ok,
            page.dedup_key,
            reply.status,
            reply.text.strip()[:500],
            not ok and retryable_http(reply.status),
        )
