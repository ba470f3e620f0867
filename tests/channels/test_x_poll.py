"""XAdapter.poll and reply through the real tweepy AsyncClient against the fake X API."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestServer

from channels.base import Direction, InboundPost, RateLimited, ReplyRejected
from channels.checkpoints import InMemoryCheckpointStore
from channels.settings import XSettings
from channels.x import XAdapter
from tests.channels.conftest import BRAND_ID
from tests.fakes.x_api import FakeXApi


class Sink:
    def __init__(self) -> None:
        self.posts: list[InboundPost] = []

    async def __call__(self, posts: Sequence[InboundPost]) -> None:
        self.posts.extend(posts)

    @property
    def ids(self) -> list[str]:
        return [p.platform_id for p in self.posts]


def seed_mentions(fake: FakeXApi, n: int, *, start: int = 0) -> list[str]:
    fake.add_user("2244994945", "jane", name="Jane", followers=120)
    return [fake.add_post(f"@acme order {start + i} never arrived", "2244994945")["id"] for i in range(n)]


@pytest.mark.asyncio
async def test_poll_normalizes_search_and_mentions(fake_x: FakeXApi, x_settings: XSettings) -> None:
    fake_x.add_user("1", "bob", followers=5, verified_type="blue")
    root = fake_x.add_post("acme launches a new plan", BRAND_ID)
    reply = fake_x.add_post(
        "@acme is acme down? " + "x" * 250,
        "1",
        in_reply_to=root["id"],
        lang="und",
        note_text="@acme is acme down? the long version",
    )
    sink = Sink()
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        report = await adapter.poll(sink)
    assert report.retry_at is None and not report.errors
    by_id = {p.platform_id: p for p in sink.posts}
    assert set(by_id) == {root["id"], reply["id"]}
    post = by_id[reply["id"]]
    assert post.text == "@acme is acme down? the long version"
    assert post.lang is None
    assert post.in_reply_to == root["id"] and post.conversation_id == root["id"]
    assert post.author.handle == "bob" and post.author.followers == 5 and post.author.verified
    assert post.account == "acme" and post.direction is Direction.INBOUND
    assert by_id[root["id"]].direction is Direction.OUTBOUND  # the brand's own post found by search
    search = fake_x.calls("/2/tweets/search/recent")[0]
    assert "author_id" in search.query["expansions"] and "conversation_id" in search.query["tweet.fields"]
    assert search.headers["Authorization"] == "Bearer app-bearer"


@pytest.mark.asyncio
async def test_checkpoints_survive_a_restart_without_loss_or_repeats(
    fake_x: FakeXApi, x_settings: XSettings
) -> None:
    store, sink = InMemoryCheckpointStore(), Sink()
    first = seed_mentions(fake_x, 3)
    async with XAdapter(x_settings, store) as adapter:
        await adapter.poll(sink)
    second = seed_mentions(fake_x, 2, start=3)
    async with XAdapter(x_settings, store) as restarted:  # a new process, same checkpoint store
        await restarted.poll(sink)
        await restarted.poll(sink)  # nothing new: nothing repeated
    mentions = [p.platform_id for p in sink.posts if p.raw["tweet"]["text"].startswith("@acme order")]
    # search ("acme") and mentions (@acme) both see these posts; each source delivers each post once
    assert sorted(mentions) == sorted((first + second) * 2)
    state = json.loads(store.values[f"x:mentions:{BRAND_ID}"])
    assert state == {"since_id": max(second, key=int)}
    last_mentions = fake_x.calls(f"/2/users/{BRAND_ID}/mentions")[-1]
    assert last_mentions.query["since_id"] == max(second, key=int)


@pytest.mark.asyncio
async def test_pagination_keeps_since_id_and_takes_newest_from_first_page(
    fake_x: FakeXApi, x_settings: XSettings
) -> None:
    x_settings.search_queries = []
    store, sink = InMemoryCheckpointStore({f"x:mentions:{BRAND_ID}": json.dumps({"since_id": "1"})}), Sink()
    ids = seed_mentions(fake_x, 25)
    async with XAdapter(x_settings, store) as adapter:
        await adapter.poll(sink)
    assert sorted(sink.ids) == sorted(ids)
    calls = fake_x.calls(f"/2/users/{BRAND_ID}/mentions")
    assert len(calls) == 3
    assert [c.query.get("since_id") for c in calls] == ["1", "1", "1"]
    assert "pagination_token" not in calls[0].query and all("pagination_token" in c.query for c in calls[1:])
    assert json.loads(store.values[f"x:mentions:{BRAND_ID}"]) == {"since_id": max(ids, key=int)}


@pytest.mark.asyncio
async def test_429_with_reset_header_returns_retry_at_and_resumes_mid_pagination(
    fake_x: FakeXApi, x_settings: XSettings
) -> None:
    x_settings.search_queries = []
    store, sink = InMemoryCheckpointStore(), Sink()
    ids = seed_mentions(fake_x, 25)
    fake_x.set_budget("mentions", 1, reset_in=600)
    async with XAdapter(x_settings, store) as adapter:
        report = await adapter.poll(sink)
        # proactive: remaining hit 0 after page 1, so no request is spent on a certain 429
        assert len(fake_x.calls(f"/2/users/{BRAND_ID}/mentions")) == 1
        assert report.retry_at is not None
        assert 590 <= (report.retry_at - datetime.now(UTC)).total_seconds() <= 610
        assert len(sink.posts) == 10
        again = await adapter.poll(sink)  # still before the reset: not even a request
        assert len(fake_x.calls(f"/2/users/{BRAND_ID}/mentions")) == 1
        assert again.retry_at == report.retry_at

    fake_x.set_budget("mentions", 0, reset_in=120)  # a real 429 this time
    store.values[f"x:mentions:{BRAND_ID}"] = json.dumps(
        {k: v for k, v in json.loads(store.values[f"x:mentions:{BRAND_ID}"]).items() if k != "not_before"}
    )
    async with XAdapter(x_settings, store) as adapter:
        limited = await adapter.poll(sink)
    assert (
        limited.retry_at is not None and 110 <= (limited.retry_at - datetime.now(UTC)).total_seconds() <= 130
    )
    assert fake_x.calls(f"/2/users/{BRAND_ID}/mentions")[-1].query.get("pagination_token")

    fake_x.set_budget("mentions", 100)
    later = lambda: datetime.fromtimestamp(time.time() + 200, tz=UTC)  # noqa: E731
    async with XAdapter(x_settings, store, clock=later) as adapter:
        done = await adapter.poll(sink)
    assert done.retry_at is None
    assert sorted(sink.ids) == sorted(ids)  # resumed at the saved page: nothing lost, nothing twice
    assert json.loads(store.values[f"x:mentions:{BRAND_ID}"]) == {"since_id": max(ids, key=int)}


@pytest.mark.asyncio
async def test_server_error_backs_off_and_reports(fake_x: FakeXApi, x_settings: XSettings) -> None:
    x_settings.search_queries = []
    seed_mentions(fake_x, 2)
    fake_x.fail_next("mentions", 503)
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        report = await adapter.poll(Sink())
    assert report.retry_at is not None and report.errors and "TwitterServerError" in report.errors[0]


@pytest.mark.asyncio
async def test_reply_goes_through_tweepy_with_oauth1_to_the_fake(
    fake_x: FakeXApi, x_settings: XSettings
) -> None:
    seed = seed_mentions(fake_x, 1)[0]
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        new_id = await adapter.reply(seed, "Sorry! DM us your order number.")
    assert fake_x.created == [
        {"id": new_id, "text": "Sorry! DM us your order number.", "in_reply_to_tweet_id": seed}
    ]
    sent = fake_x.calls("/2/tweets")[-1]
    assert (
        sent.headers["Authorization"].startswith("OAuth ")
        and 'oauth_consumer_key="ck"' in sent.headers["Authorization"]
    )
    assert sent.body == {"text": "Sorry! DM us your order number.", "reply": {"in_reply_to_tweet_id": seed}}


@pytest.mark.asyncio
async def test_reply_errors_map_to_channel_errors(fake_x: FakeXApi, x_settings: XSettings) -> None:
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        with pytest.raises(ReplyRejected, match="deleted or not visible"):
            await adapter.reply("1", "hello")
        seed = seed_mentions(fake_x, 1)[0]
        fake_x.set_budget("create", 0, reset_in=300)
        with pytest.raises(RateLimited) as limited:
            await adapter.reply(seed, "hello")
    assert limited.value.retry_at > datetime.now(UTC)


@pytest.mark.asyncio
async def test_usage_cap_429_is_named(fake_x: FakeXApi, x_settings: XSettings) -> None:
    fake_x.set_budget("create", 0, usage_capped=True)
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        with pytest.raises(RateLimited, match="usage cap"):
            await adapter.reply(seed_mentions(fake_x, 1)[0], "hello")


def test_default_base_url_is_the_real_host_and_tests_never_use_it(x_server: TestServer) -> None:
    assert XSettings(_env_file=None).api_base_url == "https://api.twitter.com"
