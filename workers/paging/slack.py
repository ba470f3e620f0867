"""Slack-compatible incoming webhook: POST {"text", "blocks"} to the hook URL; "ok" means posted.

Chat has no acknowledge or resolve, so those are posted as follow-up messages naming the incident.
Mattermost and Rocket.Chat accept the same body (they ignore the blocks and show `text`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp

from workers.paging.base import Page, PageAction, PageResult, Severity, retryable_http
from workers.paging.http import DEFAULT_TIMEOUT_SECONDS, Unreachable, post

MAX_HEADER_CHARS = 150  # Slack's limit for a header block's text
MAX_SECTION_CHARS = 3000
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ICON = {
    PageAction.TRIGGER: {
        Severity.CRITICAL: ":rotating_light:",
        Severity.ERROR: ":red_circle:",
        Severity.WARNING: ":warning:",
        Severity.INFO: ":information_source:",
    },
    PageAction.ACKNOWLEDGE: ":eyes:",
    PageAction.RESOLVE: ":white_check_mark:",
}


def escape(text: str) -> str:
    """Slack mrkdwn control characters (the only three it asks to escape)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(person: str) -> str:
    return f"<@{person}>" if _SLACK_ID.match(person) else escape(person)


def message(page: Page) -> dict[str, Any]:
    icon = _ICON[page.action]
    if isinstance(icon, dict):
        icon = icon[page.severity]
    header = f"{page.action.capitalize()}: {page.short_summary.splitlines()[0]}"
    if len(header) > MAX_HEADER_CHARS:
        header = header[: MAX_HEADER_CHARS - 1] + "…"
    who = f" for {mention(page.to)}" if page.to else ""
    text = f"{icon} {escape(page.title)}{who}"
    facts = [
        f"*Severity:* {page.severity}",
        f"*Incident:* `{escape(page.dedup_key)}`",
        f"*Source:* {escape(page.source)}",
    ]
    summary = escape(page.short_summary)[:MAX_SECTION_CHARS]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": summary},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f} for f in facts]},
    ]
    if page.details:
        lines = "\n".join(f"*{escape(str(k))}:* {escape(str(v))}" for k, v in page.details.items())
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines[:MAX_SECTION_CHARS]}})
    if page.to:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"Paged: {mention(page.to)}"}})
    if page.link:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in Engage"},
            "url": page.link,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": text, "blocks": blocks}


class SlackWebhookPager:
    name = "slack"

    def __init__(
        self,
        webhook_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._url = webhook_url
        self._session = session
        self._timeout = timeout

    def __repr__(self) -> str:  # the hook URL is the credential
        return "SlackWebhookPager(webhook_url=***)"

    async def send(self, page: Page) -> PageResult:
        body = json.dumps(message(page), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            reply = await post(self._url, body, headers, session=self._session, time_limit=self._timeout)
        except Unreachable as exc:
            return PageResult(self.name, False, page.dedup_key, None, str(exc), retryable=True)
        ok = 200 <= reply.status < 300
        return PageResult(
            self.name,
            ok,
            page.dedup_key,
            reply.status,
            reply.text.strip(),
            not ok and retryable_http(reply.status),
        )
