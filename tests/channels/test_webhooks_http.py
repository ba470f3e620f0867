"""The webhook endpoints over real HTTP: verify, store, answer, process; duplicates; rejections; replies."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlmodel import Session, col, func, select

from channels.base import Direction
from channels.checkpoints import InMemoryCheckpointStore
from channels.facebook import FacebookAdapter
from channels.replying import reply_and_record
from channels.settings import FacebookSettings, XSettings
from channels.signed_webhook import sign
from channels.x import XAdapter
from router import webhooks
from router.app import create_app
from router.ingest import Ingestor
from router.models import Case, DeadLetter, InboxEvent, Post
from router.roles import Role
from router.services import Services
from router.settings import Settings
from router.users import create_user
from tests.channels.conftest import BRAND_ID, PAGE_ID
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.x_api import FakeXApi
from tests.router.doubles import KeywordRouter

X_SECRET, FB_SECRET = "x-consumer-secret", "fb-app-secret"


def x_mention(
    post_id: str = "1307025659294674945", text: str = "@acme my order never arrived"
) -> dict[str, Any]:
    return {
        "for_user_id": BRAND_ID,
        "tweet_create_events": [
            {
                "id_str": post_id,
                "text": text,
                "user": {"id_str": "6253282", "screen_name": "maria", "followers_count": 40},
                "timestamp_ms": str(int(time.time() * 1000)),
            }
        ],
    }


def fb_comment(verb: str = "add", message: str = "Is the soup vegan?") -> dict[str, Any]:
    value = {
        "item": "comment",
        "verb": verb,
        "comment_id": "987654321_111222333",
        "post_id": f"{PAGE_ID}_987654321",
        "parent_id": f"{PAGE_ID}_987654321",
        "from": {"id": "555666777", "name": "John Doe"},
        "message": message,
        "created_time": int(time.time()),
    }
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": int(time.time()), "changes": [{"field": "feed", "value": value}]}],
    }


def x_headers(raw: bytes, secret: str = X_SECRET) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {"x-twitter-webhooks-signature": f"sha256={digest}", "Content-Type": "application/json"}


def fb_headers(raw: bytes, secret: str = FB_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


@pytest.fixture
def services(engine, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("INGEST_SECRET_REVIEWS", "reviews-secret")
    settings = Settings(
        _env_file=None,
        x=XSettings(_env_file=None, consumer_secret=SecretStr(X_SECRET), brand_accounts={"acme": BRAND_ID}),
        facebook=FacebookSettings(
            _env_file=None,
            app_secret=SecretStr(FB_SECRET),
            verify_token=SecretStr("verify-me"),
            page_id=PAGE_ID,
            page_name="acme",
        ),
    )
    svc = Services(settings=settings, engine=engine)
    # Routing is not under test here: the pipeline double routes on a keyword (see tests/router).
    svc.__dict__["ingestor"] = Ingestor(engine=engine, router=KeywordRouter())
    svc.__dict__["rules"] = _StaticRules()
    return svc


class _StaticRules:
    def reload_if_changed(self) -> None:
        return None


@pytest_asyncio.fixture
async def router_app(services: Services) -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    app = create_app(services)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession(str(server.make_url("/"))) as http,
    ):
        yield server, http


def count(engine, model: Any) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def posts(engine) -> list[Post]:
    with Session(engine) as s:
        return list(s.exec(select(Post).order_by(col(Post.id))).all())


@pytest.mark.asyncio
async def test_x_crc(router_app) -> None:
    _, http = router_app
    async with http.get("/webhooks/x", params={"crc_token": "abc"}) as r:
        assert r.status == 200
        expected = base64.b64encode(hmac.new(X_SECRET.encode(), b"abc", hashlib.sha256).digest()).decode()
        assert await r.json() == {"response_token": f"sha256={expected}"}
    async with http.get("/webhooks/x") as r:
        assert r.status == 400


@pytest.mark.asyncio
async def test_x_mention_is_stored_once_and_opens_a_case(router_app, engine) -> None:
    server, http = router_app
    raw = json.dumps(x_mention()).encode()
    async with http.post("/webhooks/x", data=raw, headers=x_headers(raw)) as r:
        assert r.status == 200 and (await r.json())["status"] == "accepted"
    await webhooks.wait_idle(server.app)
    (stored,) = posts(engine)
    assert (stored.channel, stored.platform_id, stored.account, stored.case_id is not None) == (
        "x",
        "1307025659294674945",
        "acme",
        True,
    )
    with Session(engine) as s:  # the queue answers only people who signed in
        _, token = create_user(s, name="fm", role=Role.FORUM_MANAGER)
        s.commit()
    async with http.get("/api/cases", headers={"Authorization": f"Bearer {token}"}) as r:
        assert [c["id"] for c in (await r.json())["cases"]] == [stored.case_id]
    async with http.post("/webhooks/x", data=raw, headers=x_headers(raw)) as r:  # X delivers it again
        assert r.status == 200 and (await r.json())["status"] == "duplicate"
    await webhooks.wait_idle(server.app)
    assert count(engine, InboxEvent) == 1 and len(posts(engine)) == 1 and count(engine, Case) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"x-twitter-webhooks-signature": "sha256=AAAA"}, 403), ("forged", 403)],
)
async def test_x_unsigned_or_forged_is_refused_and_not_stored(router_app, engine, headers, status) -> None:
    _, http = router_app
    raw = json.dumps(x_mention()).encode()
    if headers == "forged":
        headers = x_headers(raw, secret="guess")
    async with http.post("/webhooks/x", data=raw, headers=headers) as r:
        assert r.status == status
        assert (await r.json())["error"]["code"] == "webhook_rejected"
    assert count(engine, InboxEvent) == 0 and count(engine, DeadLetter) == 0 and posts(engine) == []


@pytest.mark.asyncio
async def test_signed_but_unreadable_payloads_get_4xx_and_a_dead_letter(router_app, engine) -> None:
    _, http = router_app
    broken = json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": [{"text": "no id"}]}).encode()
    for raw, status in ((b"{not json", 400), (broken, 422), (b"[]", 400)):
        async with http.post("/webhooks/x", data=raw, headers=x_headers(raw)) as r:
            assert r.status == status
            body = await r.json()
            assert body["error"]["code"] == "bad_payload" and body["error"]["reason"]
    assert count(engine, DeadLetter) == 3 and count(engine, InboxEvent) == 0


@pytest.mark.asyncio
async def test_facebook_handshake_over_http(router_app) -> None:
    _, http = router_app
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    async with http.get("/webhooks/facebook", params=query) as r:
        assert r.status == 200 and await r.text() == "1158201444" and r.content_type == "text/plain"
    async with http.get("/webhooks/facebook", params={**query, "hub.verify_token": "wrong"}) as r:
        assert r.status == 403


@pytest.mark.asyncio
async def test_facebook_comment_add_edit_remove(router_app, engine) -> None:
    server, http = router_app
    for payload in (
        fb_comment(),
        fb_comment("edited", "Is the soup vegan? Or vegetarian?"),
        fb_comment("remove", ""),
    ):
        raw = json.dumps(payload).encode()
        async with http.post("/webhooks/facebook", data=raw, headers=fb_headers(raw)) as r:
            assert r.status == 200
        await webhooks.wait_idle(server.app)
    (comment,) = posts(engine)
    assert comment.platform_id == "987654321_111222333" and comment.in_reply_to == f"{PAGE_ID}_987654321"
    assert comment.text == "Is the soup vegan? Or vegetarian?" and comment.edited_at is not None
    assert comment.removed


@pytest.mark.asyncio
async def test_facebook_unsigned_and_forged(router_app, engine) -> None:
    _, http = router_app
    raw = json.dumps(fb_comment()).encode()
    async with http.post("/webhooks/facebook", data=raw) as r:
        assert r.status == 401
    async with http.post("/webhooks/facebook", data=raw, headers=fb_headers(raw, "nope")) as r:
        assert r.status == 403
    assert count(engine, InboxEvent) == 0 and posts(engine) == []


@pytest.mark.asyncio
async def test_generic_ingest(router_app, engine) -> None:
    server, http = router_app
    post = {
        "platform_id": "r-1",
        "account": "acme",
        "author": {"handle": "jo"},
        "text": "Room was cold",
        "created_at": "2026-11-20T10:30:00Z",
    }
    raw = json.dumps({"posts": [post]}).encode()
    ts = str(int(time.time()))
    good = {"X-Engage-Timestamp": ts, "X-Engage-Signature": sign("reviews-secret", ts, raw)}
    async with http.post("/ingest/reviews", data=raw, headers=good) as r:
        assert r.status == 200, await r.text()
    await webhooks.wait_idle(server.app)
    assert [(p.channel, p.platform_id) for p in posts(engine)] == [("reviews", "r-1")]

    bad = json.dumps({"posts": [{**post, "author": {"handle": ""}}]}).encode()
    headers = {"X-Engage-Timestamp": ts, "X-Engage-Signature": sign("reviews-secret", ts, bad)}
    async with http.post("/ingest/reviews", data=bad, headers=headers) as r:
        assert r.status == 422 and (await r.json())["error"]["reason"].startswith("posts[0].author.handle")
    assert count(engine, DeadLetter) == 1

    old = str(int(time.time()) - 600)
    stale = {"X-Engage-Timestamp": old, "X-Engage-Signature": sign("reviews-secret", old, raw)}
    for headers, status, path in (
        (stale, 401, "/ingest/reviews"),
        ({}, 401, "/ingest/reviews"),
        (good, 404, "/ingest/forum"),
    ):
        async with http.post(path, data=raw, headers=headers) as r:
            assert r.status == status
    assert count(engine, InboxEvent) == 1


@pytest.mark.asyncio
async def test_undelivered_inbox_events_are_processed_at_startup(services: Services, engine) -> None:
    raw = json.dumps(x_mention("42")).encode()
    with Session(engine) as s:
        s.add(InboxEvent(source="x", delivery_key=hashlib.sha256(raw).hexdigest(), body=raw))
        s.commit()
    app = create_app(services)
    async with TestServer(app, host="127.0.0.1"):
        await webhooks.wait_idle(app)
    assert [p.platform_id for p in posts(engine)] == ["42"]


@pytest.mark.asyncio
async def test_x_reply_through_tweepy_stops_the_first_response_clock(
    router_app, engine, services: Services, fake_x: FakeXApi, x_settings: XSettings
) -> None:
    server, http = router_app
    fake_x.add_user("6253282", "maria")
    original = fake_x.add_post("@acme my order never arrived", "6253282")
    raw = json.dumps(x_mention(original["id"])).encode()
    async with http.post("/webhooks/x", data=raw, headers=x_headers(raw)) as r:
        assert r.status == 200
    await webhooks.wait_idle(server.app)
    (inbound,) = posts(engine)
    normalized = XAdapter(x_settings, InMemoryCheckpointStore()).normalize(x_mention(original["id"]))[0]
    async with XAdapter(x_settings, InMemoryCheckpointStore()) as adapter:
        sent = await reply_and_record(
            adapter=adapter, ingestor=services.ingestor, to=normalized, text="So sorry, DM us"
        )
    assert (
        fake_x.created[-1]["in_reply_to_tweet_id"] == original["id"]
        and fake_x.created[-1]["text"] == "So sorry, DM us"
    )
    with Session(engine) as s:
        case = s.get(Case, inbound.case_id)
        reply_row = s.exec(select(Post).where(Post.platform_id == sent.platform_id)).one()
    assert reply_row.direction == Direction.OUTBOUND and reply_row.case_id == inbound.case_id
    assert case is not None and case.first_response_at is not None


@pytest.mark.asyncio
async def test_facebook_reply_through_sdk_stops_the_first_response_clock(
    router_app, engine, services: Services, fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    server, http = router_app
    post = fake_graph.add_post("menu")
    comment = fake_graph.add_comment(post["id"], "Is the soup vegan?")
    payload = fb_comment()
    payload["entry"][0]["changes"][0]["value"].update(
        comment_id=comment["id"], post_id=post["id"], parent_id=post["id"]
    )
    raw = json.dumps(payload).encode()
    async with http.post("/webhooks/facebook", data=raw, headers=fb_headers(raw)) as r:
        assert r.status == 200
    await webhooks.wait_idle(server.app)
    async with FacebookAdapter(facebook_settings, InMemoryCheckpointStore()) as adapter:
        (to,) = adapter.normalize(payload)
        await reply_and_record(adapter=adapter, ingestor=services.ingestor, to=to, text="Yes, it is!")
    assert (
        fake_graph.replies[-1]["parent_id"] == comment["id"]
        and fake_graph.replies[-1]["message"] == "Yes, it is!"
    )
    with Session(engine) as s:
        (case,) = s.exec(select(Case)).all()
    assert case.first_response_at is not None


@pytest.mark.asyncio
async def test_a_burst_of_deliveries_is_ingested_in_arrival_order(router_app, engine) -> None:
    """Deliveries answered while a transaction runs are ingested together; a Facebook comment
    added, edited and removed in three quick deliveries still ends removed with the edited text,
    and thirty posts sent at once are all stored, each once."""
    server, http = router_app
    for payload in (
        fb_comment(),
        fb_comment("edited", "Is the soup vegan? Or vegetarian?"),
        fb_comment("remove", ""),
    ):
        raw = json.dumps(payload).encode()
        async with http.post("/webhooks/facebook", data=raw, headers=fb_headers(raw)) as r:
            assert r.status == 200
    ts = str(int(time.time()))
    bodies = [
        json.dumps(
            {
                "posts": [
                    {
                        "platform_id": f"r-{i}",
                        "account": "acme",
                        "author": {"handle": f"guest{i}"},
                        "text": f"Room {i} was cold",
                        "created_at": "2026-11-20T10:30:00Z",
                    }
                ]
            }
        ).encode()
        for i in range(30)
    ]

    async def send(raw: bytes) -> int:
        headers = {"X-Engage-Timestamp": ts, "X-Engage-Signature": sign("reviews-secret", ts, raw)}
        async with http.post("/ingest/reviews", data=raw, headers=headers) as r:
            return r.status

    assert await asyncio.gather(*(send(raw) for raw in bodies)) == [200] * 30
    await webhooks.wait_idle(server.app)
    stored = posts(engine)
    (comment,) = [p for p in stored if p.channel == "facebook"]
    assert comment.removed and comment.text == "Is the soup vegan? Or vegetarian?"
    assert sorted(p.platform_id for p in stored if p.channel == "reviews") == sorted(
        f"r-{i}" for i in range(30)
    )
    with Session(engine) as s:
        pending = s.exec(select(InboxEvent).where(col(InboxEvent.processed_at).is_(None))).all()
    assert pending == [] and count(engine, InboxEvent) == 33


@pytest.mark.asyncio
async def test_a_stored_delivery_that_no_longer_reads_is_set_aside_and_the_rest_go_in(
    services: Services, engine
) -> None:
    """Deliveries left pending by a stopped router are processed at startup; one that cannot be
    read any more is marked with its error and kept as a dead letter, the others are ingested."""
    good = json.dumps(x_mention("42")).encode()
    bad = json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": [43]}).encode()
    with Session(engine) as s:
        for raw in (good, bad):
            s.add(InboxEvent(source="x", delivery_key=hashlib.sha256(raw).hexdigest(), body=raw))
        s.commit()
    app = create_app(services)
    async with TestServer(app, host="127.0.0.1"):
        await webhooks.wait_idle(app)
    assert [p.platform_id for p in posts(engine)] == ["42"]
    with Session(engine) as s:
        events = {e.body: e for e in s.exec(select(InboxEvent)).all()}
        (letter,) = s.exec(select(DeadLetter)).all()
    assert events[good].processed_at is not None and events[good].error is None
    assert events[bad].processed_at is not None and events[bad].error
    assert letter.source == "webhook:x" and letter.payload == bad.decode()
