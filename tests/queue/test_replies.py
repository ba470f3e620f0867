"""Replies go out through the channel adapter (the fake X API here), are recorded as our outbound
post only once sent, fail visibly and can be retried; approval-gated replies wait as drafts."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from router.models import AuditEvent, Post
from router.replies import Reply
from router.roles import Role
from tests.queue.conftest import World


def outbound(world: World, case_id: int) -> list[Post]:
    with Session(world.engine) as s:
        return list(s.exec(select(Post).where(Post.case_id == case_id, Post.direction == "outbound")).all())


def actions(world: World, case_id: int) -> list[str]:
    with Session(world.engine) as s:
        return list(
            s.exec(
                select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.id))
            )
        )


@pytest.mark.asyncio
async def test_a_reply_reaches_x_and_is_recorded_as_our_response(world: World) -> None:
    case_id = world.case("@acme my order never arrived")
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "So sorry! DM us 🙏"}
    )
    assert status == 201 and body["reply"]["status"] == "sent"
    [created] = world.fake_x.created
    assert created["text"] == "So sorry! DM us 🙏" and created["id"] == body["reply"]["platform_id"]
    [ours] = outbound(world, case_id)
    assert ours.platform_id == created["id"] and ours.in_reply_to == created["in_reply_to_tweet_id"]
    case = world.get_case(case_id)
    assert case.first_response_at is not None and case.status == "waiting"
    assert case.assignee == "forum-manager-user"  # replying claimed it
    assert {"reply.created", "reply.sent"} <= set(actions(world, case_id))


@pytest.mark.asyncio
async def test_a_reply_to_a_case_someone_else_holds_is_refused(world: World) -> None:
    case_id = world.case()
    await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "hi"}
    )
    assert status == 409 and body["error"]["holder"] == "manager-user"
    assert world.fake_x.created == []


@pytest.mark.asyncio
async def test_a_failed_send_is_shown_marks_nothing_answered_and_can_be_retried(world: World) -> None:
    case_id = world.case()
    world.fake_x.fail_next("create", 503)
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "On it"}
    )
    assert status == 502 and body["error"]["code"] == "send_failed"
    reply = body["error"]["reply"]
    assert reply["status"] == "failed" and reply["error"]
    assert outbound(world, case_id) == [] and world.get_case(case_id).first_response_at is None
    _, page = await world.call("GET", f"/cases/{case_id}", Role.FORUM_MANAGER)
    assert "failed" in page and f"/replies/{reply['id']}/retry" in page
    status, body = await world.call("POST", f"/api/replies/{reply['id']}/retry", Role.FORUM_MANAGER)
    assert status == 201 and body["reply"]["status"] == "sent" and body["reply"]["attempts"] == 2
    assert len(world.fake_x.created) == 1 and len(outbound(world, case_id)) == 1
    status, body = await world.call("POST", f"/api/replies/{reply['id']}/retry", Role.FORUM_MANAGER)
    assert status == 409  # a sent reply is never sent twice


@pytest.mark.asyncio
async def test_a_reply_too_long_for_x_is_refused_before_sending(world: World) -> None:
    case_id = world.case()
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "日本" * 71}
    )
    assert status == 422 and "284" in body["error"]["reason"]
    status, _ = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "日本" * 70}
    )
    assert status == 201


@pytest.mark.asyncio
async def test_an_approval_gated_reply_waits_until_an_approver_approves(world: World) -> None:
    case_id = world.case("verified author complains #approve")
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "We hear you"}
    )
    assert status == 202 and body["reply"]["status"] == "pending_approval"
    reply_id = body["reply"]["id"]
    assert world.fake_x.created == [] and outbound(world, case_id) == []
    assert world.get_case(case_id).first_response_at is None
    status, _ = await world.call("POST", f"/api/replies/{reply_id}/approve", Role.FORUM_MANAGER)
    assert status == 403  # forum managers cannot approve
    status, body = await world.call("POST", f"/api/replies/{reply_id}/approve", Role.MANAGER)
    assert (
        status == 201 and body["reply"]["status"] == "sent" and body["reply"]["approved_by"] == "manager-user"
    )
    assert [c["text"] for c in world.fake_x.created] == ["We hear you"]
    status, _ = await world.call("POST", f"/api/replies/{reply_id}/approve", Role.MANAGER)
    assert status == 409
    assert {"reply.drafted", "reply.approved", "reply.sent"} <= set(actions(world, case_id))


@pytest.mark.asyncio
async def test_a_rejected_draft_is_never_sent(world: World) -> None:
    case_id = world.case("thread flagged #approve")
    _, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.FORUM_MANAGER, json={"text": "lol"}
    )
    reply_id = body["reply"]["id"]
    status, body = await world.call(
        "POST", f"/api/replies/{reply_id}/reject", Role.MANAGER, json={"reason": "tone"}
    )
    assert status == 200 and body["reply"]["status"] == "rejected"
    status, _ = await world.call("POST", f"/api/replies/{reply_id}/approve", Role.MANAGER)
    assert status == 409 and world.fake_x.created == []
    with Session(world.engine) as s:
        assert s.get(Reply, reply_id).status == "rejected"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_an_approver_replying_to_a_gated_case_sends_directly(world: World) -> None:
    case_id = world.case("legal threat #pr #approve")
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/reply", Role.PR, json={"text": "Please DM us"}
    )
    assert status == 201 and body["reply"]["approved_by"] == "pr-user"


@pytest.mark.asyncio
async def test_preview_fills_placeholders_and_counts_as_x_counts(world: World) -> None:
    case_id = world.case(author="kenji")
    status, body = await world.call(
        "POST",
        "/api/compose/preview",
        Role.FORUM_MANAGER,
        json={"case": case_id, "text": "Hi {author}, see https://example.com/a/very/long/link 😀 — {agent}"},
    )
    assert status == 200
    assert body["text"] == "Hi @kenji, see https://example.com/a/very/long/link 😀 — forum-manager-user"
    assert body["length"] == len("Hi @kenji, see ") + 23 + len(" ") + 2 + len(" — forum-manager-user")
    assert body["limit"] == 280 and body["fits"] is True


@pytest.mark.asyncio
async def test_canned_responses_are_offered_with_placeholders_filled(world: World) -> None:
    status, _ = await world.call(
        "POST", "/api/canned", Role.MANAGER, json={"name": "apology", "text": "Sorry {author}! — {agent}"}
    )
    assert status == 201
    status, _ = await world.call("POST", "/api/canned", Role.MANAGER, json={"name": "apology", "text": "x"})
    assert status == 409
    case_id = world.case(author="lena")
    _, listing = await world.call("GET", "/api/canned", Role.CUSTOMER_SERVICE)
    assert [c["name"] for c in listing["canned"]] == ["apology"]
    _, page = await world.call("GET", f"/cases/{case_id}", Role.FORUM_MANAGER)
    assert "Sorry @lena! — forum-manager-user" in page
