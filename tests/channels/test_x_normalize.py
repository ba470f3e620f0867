"""XAdapter.normalize on the documented payload shapes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from channels.base import Direction
from channels.checkpoints import InMemoryCheckpointStore
from channels.http import install_log_redaction
from channels.registry import CHANNELS, build_adapter, replier_for
from channels.settings import XSettings
from channels.x import XAdapter
from router.settings import Settings

V2_PAGE = {
    "data": [
        {
            "id": "1851234567890123457",
            "text": "@acme my order #4411 never arrived",
            "edit_history_tweet_ids": ["1851234567890123457"],
            "author_id": "2244994945",
            "conversation_id": "1851230000000000000",
            "in_reply_to_user_id": "783214",
            "referenced_tweets": [
                {"type": "quoted", "id": "5"},
                {"type": "replied_to", "id": "1851230000000000000"},
            ],
            "lang": "en",
            "created_at": "2026-11-20T10:30:00.000Z",
        }
    ],
    "includes": {
        "users": [
            {
                "id": "2244994945",
                "name": "X Dev",
                "username": "XDevelopers",
                "verified": False,
                "verified_type": "business",
                "public_metrics": {"followers_count": 512292},
            }
        ]
    },
    "meta": {"newest_id": "1851234567890123457", "result_count": 1},
}

AAA_CREATE = {
    "for_user_id": "783214",
    "user_has_blocked": "false",
    "tweet_create_events": [
        {
            "created_at": "Fri Sep 18 18:36:15 +0000 2020",
            "id": 1307025659294675000,
            "id_str": "1307025659294674945",
            "text": "@acme is the v2 payload documented? Lorem ipsum…",
            "truncated": True,
            "extended_tweet": {
                "full_text": "@acme is the v2 payload documented? Lorem ipsum dolor sit amet, the end"
            },
            "in_reply_to_status_id_str": "1304102743196356610",
            "user": {
                "id_str": "6253282",
                "name": "X API",
                "screen_name": "API",
                "verified": True,
                "followers_count": 6129794,
            },
            "lang": "und",
            "timestamp_ms": "1600454175000",
        },
        {
            "id_str": "1307025659294674999",
            "text": "@API thanks, we're looking into it",
            "in_reply_to_status_id_str": "1307025659294674945",
            "user": {"id_str": "783214", "screen_name": "acme", "followers_count": 10},
            "timestamp_ms": "1600454179000",
        },
        {
            "id_str": "1307025659294675111",
            "text": "RT @acme: news",
            "retweeted_status": {"id_str": "1"},
            "user": {"id_str": "9", "screen_name": "fan"},
        },
    ],
}


@pytest.fixture
def adapter() -> XAdapter:
    return XAdapter(XSettings(_env_file=None, brand_accounts={"acme": "783214"}), InMemoryCheckpointStore())


def test_v2_page(adapter: XAdapter) -> None:
    (post,) = adapter.normalize(V2_PAGE)
    assert post.platform_id == "1851234567890123457" and post.in_reply_to == "1851230000000000000"
    assert post.conversation_id == "1851230000000000000" and post.account == "acme"
    assert post.author.handle == "XDevelopers" and post.author.followers == 512292 and post.author.verified
    assert post.created_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC) and post.lang == "en"
    assert post.url == "https://x.com/XDevelopers/status/1851234567890123457"
    assert adapter.normalize({"meta": {"result_count": 0}}) == []


def test_account_activity_create_events(adapter: XAdapter) -> None:
    mention, ours = adapter.normalize(AAA_CREATE)  # the retweet is skipped
    assert mention.platform_id == "1307025659294674945"  # id_str, not the rounded number
    assert mention.text.endswith("the end") and mention.lang is None
    assert mention.author.handle == "API" and mention.author.verified and mention.author.followers == 6129794
    assert mention.in_reply_to == "1304102743196356610" and mention.account == "acme"
    assert mention.created_at == datetime.fromtimestamp(1600454175, tz=UTC)
    assert mention.direction is Direction.INBOUND
    assert ours.direction is Direction.OUTBOUND and ours.in_reply_to == mention.platform_id


def test_account_activity_delete_event(adapter: XAdapter) -> None:
    payload = {
        "for_user_id": "783214",
        "tweet_delete_events": [
            {
                "status": {"id": "1045405559317569537", "user_id": "930524282358325248"},
                "timestamp_ms": "1432228155593",
            }
        ],
    }
    (gone,) = adapter.normalize(payload)
    assert gone.removed and gone.platform_id == "1045405559317569537" and gone.text == ""
    assert gone.author.platform_user_id == "930524282358325248"


def test_x_activity_api_envelope(adapter: XAdapter) -> None:
    tweet = V2_PAGE["data"][0]
    payload = {
        "data": {
            "event_uuid": "u1",
            "filter": {"user_id": "783214"},
            "event_type": "post.mention.create",
            "tag": "",
            "payload": tweet,
            "includes": V2_PAGE["includes"],
        }
    }
    (post,) = adapter.normalize(payload)
    assert post.platform_id == tweet["id"] and post.account == "acme" and post.author.handle == "XDevelopers"
    other = {"data": {**payload["data"], "event_type": "dm.received"}}
    assert adapter.normalize(other) == []


def test_snowflake_time_when_created_at_was_not_requested(adapter: XAdapter) -> None:
    (post,) = adapter.normalize({"data": [{"id": "1851234567890123457", "text": "hi"}]})
    assert post.created_at.year == 2024 and post.author.handle == "unknown"


def test_tokens_never_reach_logs(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    with caplog.at_level(logging.DEBUG, logger="tweepy.asynchronous.client"):
        logging.getLogger("tweepy.asynchronous.client").debug(
            "Making API request: GET https://api.twitter.com/2/x\nHeaders: {'Authorization': 'Bearer SECRET'}"
        )
        logging.getLogger("urllib3.connectionpool").debug(
            '"GET /v24.0/1/feed?access_token=SECRET&x=1 HTTP/1.1"'
        )
    assert "SECRET" not in caplog.text and "***" in caplog.text
    settings = XSettings(_env_file=None, bearer_token="SECRET", consumer_secret="SECRET")
    assert "SECRET" not in repr(settings) and "SECRET" not in repr(
        XAdapter(settings, InMemoryCheckpointStore())
    )


def test_registry_table() -> None:
    assert {"x", "facebook", "ingest", "replay"} <= set(CHANNELS)
    store, config = InMemoryCheckpointStore(), Settings(_env_file=None)
    assert isinstance(build_adapter("x", config, store), XAdapter)
    assert type(replier_for("messenger", config, store)).__name__ == "FacebookAdapter"
    assert replier_for("reviews", config, store) is None
    with pytest.raises(KeyError, match="known: x, facebook"):
        build_adapter("myspace", config, store)


def test_an_account_activity_event_that_is_not_an_object_is_refused_with_its_place() -> None:
    from channels.base import WebhookRejected
    from channels.x_normalize import XAccounts, normalize_payload

    with pytest.raises(WebhookRejected, match=r"tweet_create_events\[0\]"):  # found by the fuzz tests
        normalize_payload({"for_user_id": "", "tweet_create_events": [None]}, XAccounts())
