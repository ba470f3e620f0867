"""PagerDuty Events API v2: POST {base}/v2/enqueue with the integration's routing key.

trigger carries a payload (summary, source, severity, timestamp, custom_details); acknowledge and
resolve carry only the dedup key. PagerDuty answers 202 {"status": "success", "dedup_key": …};
400 is an invalid event (not worth retrying), 429 and 5xx are worth retrying.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from workers.paging.base import Page, PageAction, PageResult, retryable_http
from workers.paging.http import DEFAULT_TIMEOUT_SECONDS, Unreachable, post

DEFAULT_BASE_URL = "https://events.pagerduty.com"
ENQUEUE_PATH = "/v2/enqueue"


def event(page: Page, routing_key: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": page.action.value,
        "dedup_key": page.dedup_key,
    }
    if page.action is PageAction.TRIGGER:
        details = dict(page.details)
        if page.to:
            details["paged"] = page.to
        body["payload"] = {
            "summary": page.short_summary,
            "source": page.source,
            "severity": page.severity.value,
            "timestamp": page.at.isoformat(),
            "component": "engage-router",
            "custom_details": details,
        }
        body["client"] = "Engage Router"
        if page.link:
            body["client_url"] = page.link
            body["links"] = [{"href": page.link, "text": "Open in Engage"}]
    return body


class PagerDutyPager:
    name = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if len(routing_key) != 32:
            raise ValueError("a PagerDuty routing (integration) key has 32 characters")
        self._routing_key = routing_key
        self.url = base_url.rstrip("/") + ENQUEUE_PATH
        self._session = session
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"PagerDutyPager(url={self.url!r}, routing_key=***)"

    async def send(self, page: Page) -> PageResult:
        body = json.dumps(event(page, self._routing_key), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            reply = await post(self.url, body, headers, session=self._session, time_limit=self._timeout)
        except Unreachable as exc:
            return PageResult(self.name, False, page.dedup_key, None, str(exc), retryable=True)
        answer = _json(reply.text)
        ok = reply.status == 202 and answer.get("status") == "success"
        message = str(answer.get("message") or reply.text)
        if errors := answer.get("errors"):
            message = f"{message}: {'; '.join(map(str, errors))}"
        return PageResult(
            self.name,
            ok,
            str(answer.get("dedup_key") or page.dedup_key),
            reply.status,
            message.strip(),
            retryable=not ok and retryable_http(reply.status),
        )


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
