from __future__ import annotations

import pytest

from tests.paging.conftest import Sink, make_page
from workers.paging.base import PageAction, Pager
from workers.paging.pagerduty import PagerDutyPager

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters, like an integration key


def pager(sink: Sink) -> PagerDutyPager:
    return PagerDutyPager(ROUTING_KEY, base_url=sink.url)


@pytest.mark.asyncio
async def test_trigger_acknowledge_resolve_one_incident(sink: Sink) -> None:
    pd = pager(sink)
    assert isinstance(pd, Pager)
    trigger = await pd.send(make_page())
    assert (trigger.ok, trigger.status, trigger.dedup_key) == (True, 202, "incident:x:1851230000000000000")
    assert sink.fake.incidents == {"incident:x:1851230000000000000": "triggered"}

    event = sink.fake.at("/v2/enqueue")[0].json()
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "incident:x:1851230000000000000"
    payload = event["payload"]
    assert payload["severity"] == "critical"
    assert payload["source"] == "engage-router"
    assert payload["summary"].startswith("Legal threat")
    assert payload["timestamp"] == "2026-11-20T10:30:00+00:00"
    assert payload["custom_details"] == {
        "case": 42,
        "risk": 0.93,
        "terms": "lawyer, lawsuit",
        "paged": "dana",
    }
    assert event["links"] == [{"href": "http://127.0.0.1:8080/cases/42", "text": "Open in Engage"}]

    ack = await pd.send(make_page(PageAction.ACKNOWLEDGE))
    assert ack.ok and sink.fake.incidents["incident:x:1851230000000000000"] == "acknowledged"
    ack_event = sink.fake.at("/v2/enqueue")[1].json()
    assert set(ack_event) == {"routing_key", "event_action", "dedup_key"}  # no payload on ack/resolve

    resolved = await pd.send(make_page(PageAction.RESOLVE))
    assert resolved.ok and sink.fake.incidents["incident:x:1851230000000000000"] == "resolved"


@pytest.mark.asyncio
async def test_a_re_page_with_the_same_key_stays_one_incident(sink: Sink) -> None:
    pd = pager(sink)
    for person in ("dana", "eli", "fox"):
        assert (await pd.send(make_page(to=person))).ok
    assert len(sink.fake.incidents) == 1
    assert [r.json()["payload"]["custom_details"]["paged"] for r in sink.fake.requests] == [
        "dana",
        "eli",
        "fox",
    ]


@pytest.mark.asyncio
async def test_invalid_event_is_not_retried_and_says_why(sink: Sink) -> None:
    pd = PagerDutyPager("x" * 32, base_url=sink.url)
    long = await pd.send(make_page(summary="s" * 1024))
    assert long.ok  # exactly at the limit
    result = await pd.send(make_page(details={}, summary="x" * 5000))  # trimmed to 1024 by the pager
    assert result.ok and len(sink.fake.requests[-1].json()["payload"]["summary"]) == 1024
    sink.fake.fail("/v2/enqueue", 400)
    refused = await pd.send(make_page())
    assert (refused.ok, refused.status, refused.retryable) == (False, 400, False)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retryable(sink: Sink, status: int) -> None:
    sink.fake.fail("/v2/enqueue", status)
    pd = pager(sink)
    first = await pd.send(make_page())
    assert (first.ok, first.status, first.retryable) == (False, status, True)
    assert (await pd.send(make_page())).ok


@pytest.mark.asyncio
async def test_nothing_listening_is_retryable() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await PagerDutyPager(ROUTING_KEY, base_url=f"http://127.0.0.1:{port}").send(make_page())
    assert (result.ok, result.status, result.retryable) == (False, None, True)


def test_routing_key_is_checked_and_masked() -> None:
    with pytest.raises(ValueError, match="32 characters"):
        PagerDutyPager("short")
    assert ROUTING_KEY not in repr(PagerDutyPager(ROUTING_KEY))
    assert PagerDutyPager(ROUTING_KEY).url == "https://events.pagerduty.com/v2/enqueue"
