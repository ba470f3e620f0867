"""FacebookAdapter: the real facebook-sdk GraphAPI against the fake Graph API, and webhook normalizing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from channels.base import Direction, InboundPost, RateLimited, ReplyRejected
from channels.checkpoints import InMemoryCheckpointStore
from channels.facebook import FacebookAdapter
from channels.settings import FacebookSettings
from tests.channels.conftest import PAGE_ID
from tests.fakes.graph_api import FakeGraphApi


class Sink:
    def __init__(self) -> None:
        self.posts: list[InboundPost] = []

    async def __call__(self, posts: Sequence[InboundPost]) -> None:
        self.posts.extend(posts)

    @property
    def ids(self) -> list[str]:
        return [p.platform_id for p in self.posts]


@pytest.mark.asyncio
async def test_poll_feed_and_comments_across_a_restart(
    fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    store, sink = InMemoryCheckpointStore(), Sink()
    post = fake_graph.add_post("Our new winter menu is out")
    first = fake_graph.add_comment(post["id"], "Is the soup vegan?")
    nested = fake_graph.add_comment(first["id"], "Asking too!", from_id="999", from_name="Ann")
    report = await FacebookAdapter(facebook_settings, store).poll(sink)
    assert report.posts == 3 and report.retry_at is None
    by_id = {p.platform_id: p for p in sink.posts}
    assert by_id[post["id"]].direction is Direction.OUTBOUND  # the page's own post
    comment = by_id[first["id"]]
    assert comment.in_reply_to == post["id"] and comment.conversation_id == post["id"]
    assert comment.author.handle == "John Doe" and comment.author.platform_user_id == "555666777"
    assert comment.account == "acme" and comment.text == "Is the soup vegan?"
    assert by_id[nested["id"]].in_reply_to == first["id"]

    later = fake_graph.add_comment(post["id"], "Any gluten free options?")
    restarted = FacebookAdapter(facebook_settings, store)  # new process, same checkpoints
    await restarted.poll(sink)
    await restarted.poll(sink)
    assert sink.ids == [post["id"], first["id"], nested["id"], later["id"]]

    listing = next(r for r in fake_graph.requests if r.path.endswith("/comments"))
    assert listing.path == f"/v24.0/{post['id']}/comments"
    assert listing.query["filter"] == "stream" and listing.query["order"] == "reverse_chronological"
    assert "access_token" not in listing.query  # moved to the Authorization header: never in logged URLs
    assert listing.token == "page-token"


@pytest.mark.asyncio
async def test_comment_pagination_follows_cursors(
    fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    post = fake_graph.add_post("Big news", from_id="42", from_name="Fan")
    ids = [fake_graph.add_comment(post["id"], f"comment {i}")["id"] for i in range(130)]
    sink = Sink()
    await FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).poll(sink)
    assert sorted(sink.ids) == sorted([post["id"], *ids])
    pages = [r for r in fake_graph.requests if r.path.endswith("/comments")]
    assert len(pages) == 2 and "after" in pages[1].query


@pytest.mark.asyncio
async def test_throttle_code_backs_off_until_regain_time(
    fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    fake_graph.add_post("hello")
    fake_graph.throttle_next(code=32)
    store = InMemoryCheckpointStore()
    adapter = FacebookAdapter(facebook_settings, store)
    report = await adapter.poll(Sink())
    assert report.retry_at is not None
    assert (
        6 * 60 < (report.retry_at - datetime.now(UTC)).total_seconds() <= 7 * 60
    )  # from X-Business-Use-Case-Usage
    calls = len(fake_graph.requests)
    again = await adapter.poll(Sink())
    assert again.retry_at == report.retry_at and len(fake_graph.requests) == calls  # no busy loop


@pytest.mark.asyncio
async def test_reply_to_comment_through_facebook_sdk(
    fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    post = fake_graph.add_post("menu")
    comment = fake_graph.add_comment(post["id"], "Is the soup vegan?")
    new_id = await FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).reply(
        comment["id"], "Yes, it is!"
    )
    assert fake_graph.replies == [{"parent_id": comment["id"], "message": "Yes, it is!", "id": new_id}]
    sent = fake_graph.requests[-1]
    assert sent.method == "POST" and sent.path == f"/v24.0/{comment['id']}/comments"
    assert sent.form == {"message": "Yes, it is!"} and sent.token == "page-token"


@pytest.mark.asyncio
async def test_reply_to_messenger_conversation(
    fake_graph: FakeGraphApi, facebook_settings: FacebookSettings
) -> None:
    mid = await FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).reply(
        "m_abc", "We're on it", conversation_id="messenger:PSID1"
    )
    assert fake_graph.messages == [
        {
            "recipient": {"id": "PSID1"},
            "message": {"text": "We're on it"},
            "messaging_type": "RESPONSE",
            "mid": mid,
        }
    ]


@pytest.mark.asyncio
async def test_reply_errors(fake_graph: FakeGraphApi, facebook_settings: FacebookSettings) -> None:
    adapter = FacebookAdapter(facebook_settings, InMemoryCheckpointStore())
    with pytest.raises(ReplyRejected, match="does not exist"):
        await adapter.reply("1_2", "hi")
    comment = fake_graph.add_comment(fake_graph.add_post("p")["id"], "c")
    fake_graph.throttle_next(code=613)
    with pytest.raises(RateLimited):
        await adapter.reply(comment["id"], "hi")
    bad = FacebookSettings(**{**facebook_settings.model_dump(), "page_token": "wrong", "_env_file": None})
    with pytest.raises(ReplyRejected, match="190"):
        await FacebookAdapter(bad, InMemoryCheckpointStore()).reply(comment["id"], "hi")


def webhook(*changes: dict, messaging: list[dict] | None = None) -> dict:
    entry: dict = {
        "id": PAGE_ID,
        "time": 1742667607,
        "changes": [{"field": "feed", "value": v} for v in changes],
    }
    if messaging is not None:
        entry["messaging"] = messaging
    return {"object": "page", "entry": [entry]}


def comment_value(verb: str = "add", message: str = "meow 2", from_id: str = "555") -> dict:
    return {
        "from": {"id": from_id, "name": "SuperTester"},
        "message": message,
        "post_id": f"{PAGE_ID}_122131676912594941",
        "comment_id": "122131676912594941_1213590066982748",
        "created_time": 1742667604,
        "item": "comment",
        "parent_id": "122131676912594941_542072878449250",
        "verb": verb,
    }


def test_feed_comment_add_edit_remove(facebook_settings: FacebookSettings) -> None:
    adapter = FacebookAdapter(facebook_settings, InMemoryCheckpointStore())
    (added,) = adapter.normalize(webhook(comment_value()))
    assert added.platform_id == "122131676912594941_1213590066982748"
    assert added.in_reply_to == "122131676912594941_542072878449250"
    assert added.conversation_id == f"{PAGE_ID}_122131676912594941"
    assert added.created_at == datetime.fromtimestamp(1742667604, tz=UTC) and added.account == "acme"
    (edited,) = adapter.normalize(webhook(comment_value("edited", "meow 3")))
    assert edited.platform_id == added.platform_id and edited.text == "meow 3" and not edited.removed
    (removed,) = adapter.normalize(webhook({**comment_value("remove"), "message": None, "from": None}))
    assert removed.platform_id == added.platform_id and removed.removed
    (ours,) = adapter.normalize(webhook(comment_value(from_id=PAGE_ID)))
    assert ours.direction is Direction.OUTBOUND
    assert adapter.normalize(webhook({"item": "reaction", "verb": "add", "post_id": "1_2"})) == []
    assert adapter.normalize(webhook({**comment_value(), "verb": "hide"})) == []


def test_feed_post_status(facebook_settings: FacebookSettings) -> None:
    value = {
        "item": "status",
        "verb": "add",
        "post_id": f"{PAGE_ID}_77",
        "message": "Where is my parcel?",
        "from": {"id": "1", "name": "Al"},
        "created_time": 1700000000,
    }
    (post,) = FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).normalize(webhook(value))
    assert (
        post.platform_id == f"{PAGE_ID}_77"
        and post.in_reply_to is None
        and post.conversation_id == post.platform_id
    )


def test_messenger_text_echo_and_duplicate_mid(facebook_settings: FacebookSettings) -> None:
    text = {
        "sender": {"id": "USER_ID"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1457764197627,
        "message": {"mid": "mid.1457764197618:41d102a3e1ae206a38", "seq": 73, "text": "hello, world!"},
    }
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": "USER_ID"},
        "timestamp": 1457764197700,
        "message": {"mid": "m_echo", "is_echo": True, "text": "our reply"},
    }
    read = {
        "sender": {"id": "USER_ID"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1,
        "read": {"watermark": 1},
    }
    posts = FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).normalize(
        webhook(messaging=[text, echo, read, text])
    )
    assert len(posts) == 1
    (message,) = posts
    assert message.channel == "messenger" and message.platform_id == "mid.1457764197618:41d102a3e1ae206a38"
    assert message.conversation_id == "messenger:USER_ID" and message.author.platform_user_id == "USER_ID"
    assert message.created_at == datetime.fromtimestamp(1457764197.627, tz=UTC)
    assert message.text == "hello, world!"


def test_graph_version_is_set_after_construction(facebook_settings: FacebookSettings) -> None:
    graph = FacebookAdapter(facebook_settings, InMemoryCheckpointStore()).graph()
    assert graph.version == "v24.0"
    assert json.dumps(FacebookSettings(_env_file=None).graph_url) == '"https://graph.facebook.com/"'
