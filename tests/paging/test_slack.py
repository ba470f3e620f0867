from __future__ import annotations

import pytest

from tests.paging.conftest import Sink, make_page
from workers.paging.base import PageAction
from workers.paging.slack import SlackWebhookPager, message

HOOK = "services/T000/B000/XXXXXXXX"


@pytest.mark.asyncio
async def test_posts_text_and_blocks(sink: Sink) -> None:
    result = await SlackWebhookPager(sink.url + HOOK).send(make_page())
    assert (result.ok, result.status, result.message) == (True, 200, "ok")
    (request,) = sink.fake.requests
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.json()
    assert set(body) == {"text", "blocks"}
    # Slack's three control characters are escaped so a post cannot @channel or fake a link.
    assert "&lt;@channel&gt; &amp; more" in body["text"]
    assert body["text"].startswith(":rotating_light: [TRIGGER critical] Legal threat")
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "context", "section", "section", "actions"]
    assert body["blocks"][-1]["elements"][0]["url"] == "http://127.0.0.1:8080/cases/42"


def test_acknowledge_and_resolve_are_follow_up_messages() -> None:
    assert message(make_page(PageAction.ACKNOWLEDGE))["text"].startswith(":eyes: [ACKNOWLEDGE")
    assert message(make_page(PageAction.RESOLVE))["text"].startswith(":white_check_mark: [RESOLVE")


def test_slack_user_ids_become_mentions_and_long_headers_are_cut() -> None:
    body = message(make_page(to="U024BE7LH", summary="x" * 400, details={}, link=None))
    assert body["text"].endswith(" for <@U024BE7LH>")
    header = body["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context", "section"]


@pytest.mark.asyncio
async def test_errors(sink: Sink) -> None:
    pager = SlackWebhookPager(sink.url + HOOK)
    sink.fake.fail("/" + HOOK, 429)
    throttled = await pager.send(make_page())
    assert (throttled.ok, throttled.status, throttled.retryable) == (False, 429, True)
    sink.fake.fail("/" + HOOK, 404)
    gone = await pager.send(make_page())
    assert (gone.ok, gone.retryable) == (False, False)
    assert "XXXXXXXX" not in repr(pager)
