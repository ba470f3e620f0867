"""Write endpoints accept an Idempotency-Key: a retry gets the first response, the work is done once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from router.notes import Note
from router.roles import Role
from tests.queue.conftest import World


def notes(world: World) -> int:
    with Session(world.engine) as s:
        return s.exec(select(func.count()).select_from(Note)).one()


@pytest.mark.asyncio
async def test_a_retried_note_is_added_once_and_answered_the_same(world: World) -> None:
    case_id = world.case()
    key = {"Idempotency-Key": "note-1"}
    first = await world.call(
        "POST", f"/api/cases/{case_id}/notes", Role.FORUM_MANAGER, json={"text": "hi"}, headers=key
    )
    again = await world.call(
        "POST", f"/api/cases/{case_id}/notes", Role.FORUM_MANAGER, json={"text": "hi"}, headers=key
    )
    assert first == again and first[0] == 201 and notes(world) == 1
    # the key belongs to the user: another user's same key is another request
    other = await world.call(
        "POST", f"/api/cases/{case_id}/notes", Role.MANAGER, json={"text": "hi"}, headers=key
    )
    assert other[0] == 201 and notes(world) == 2


@pytest.mark.asyncio
async def test_a_retried_reply_is_sent_once(world: World) -> None:
    case_id = world.case()
    key = {"Idempotency-Key": "reply-7f3a"}
    path = f"/api/cases/{case_id}/reply"
    first = await world.call("POST", path, Role.FORUM_MANAGER, json={"text": "Sorry!"}, headers=key)
    again = await world.call("POST", path, Role.FORUM_MANAGER, json={"text": "Sorry!"}, headers=key)
    assert first[0] == 201 and again == first and len(world.fake_x.created) == 1


@pytest.mark.asyncio
async def test_a_retried_conflict_and_a_reused_key(world: World) -> None:
    case_id = world.case()
    await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    key = {"Idempotency-Key": "claim-1"}
    first = await world.call("POST", f"/api/cases/{case_id}/claim", Role.FORUM_MANAGER, headers=key)
    again = await world.call("POST", f"/api/cases/{case_id}/claim", Role.FORUM_MANAGER, headers=key)
    assert first[0] == 409 and again == first
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/notes", Role.FORUM_MANAGER, json={"text": "x"}, headers=key
    )
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
