"""Claims: a lease taken by one conditional UPDATE; the second claimer learns who holds it."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session

from router import claims
from router.roles import Role
from router.users import Principal
from tests.queue.conftest import World


@pytest.mark.asyncio
async def test_a_second_claim_gets_409_naming_the_holder(world: World) -> None:
    case_id = world.case()
    status, first = await world.call("POST", f"/api/cases/{case_id}/claim", Role.FORUM_MANAGER)
    assert status == 200 and first["holder"] == "forum-manager-user"
    status, second = await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    assert status == 409
    error = second["error"]
    assert error["code"] == "held" and error["holder"] == "forum-manager-user"
    assert re.fullmatch(r"held by forum-manager-user since \d\d:\d\d UTC", error["reason"])
    assert world.get_case(case_id).assignee == "forum-manager-user"
    # the holder renews, keeping the original time
    status, again = await world.call("POST", f"/api/cases/{case_id}/claim", Role.FORUM_MANAGER)
    assert status == 200 and again["since"] == first["since"] and again["expires_at"] >= first["expires_at"]


@pytest.mark.asyncio
async def test_claims_racing_over_http_have_exactly_one_winner(world: World) -> None:
    case_id = world.case()
    roles = [Role.FORUM_MANAGER, Role.MANAGER] * 5
    results = await asyncio.gather(*(world.call("POST", f"/api/cases/{case_id}/claim", r) for r in roles))
    winners = {body["holder"] for status, body in results if status == 200}
    assert len(winners) == 1
    assert all(status == 409 for status, body in results if body.get("holder") not in winners)


def test_claims_from_parallel_connections_have_one_winner(engine, world: World) -> None:
    """Like two processes: separate sessions in separate threads, released at the same moment."""
    case_id = world.case()
    people = [Principal(1000 + i, f"agent-{i}", Role.FORUM_MANAGER) for i in range(8)]
    barrier, outcomes = threading.Barrier(len(people)), []

    def attempt(person: Principal) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                claims.claim(session, case_id=case_id, user=person, lease=timedelta(minutes=5))
                session.commit()
                outcomes.append(person.name)
            except claims.ClaimConflict as exc:
                session.rollback()
                outcomes.append(f"lost to {exc.holder.name}")

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if not o.startswith("lost")]
    assert len(winners) == 1 and outcomes.count(f"lost to {winners[0]}") == len(people) - 1


@pytest.mark.asyncio
async def test_an_idle_lease_expires_and_returns_the_case_to_the_queue(world: World, engine) -> None:
    case_id = world.case()
    holder = Principal(1, "idle", Role.FORUM_MANAGER)
    with Session(engine) as s:
        claims.claim(s, case_id=case_id, user=holder, lease=timedelta(seconds=-1))  # already run out
        s.commit()
    status, _ = await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    assert status == 200  # an expired lease is free to take
    with Session(engine) as s:
        claims.release(s, case_id=case_id, user=holder, force=True)
        claims.claim(s, case_id=case_id, user=holder, lease=timedelta(seconds=-1))
        s.commit()
        assert claims.expire_leases(s) == [case_id]
        s.commit()
    assert world.get_case(case_id).assignee is None


@pytest.mark.asyncio
async def test_release_and_presence(world: World) -> None:
    case_id = world.case()
    await world.call("POST", f"/api/cases/{case_id}/claim", Role.FORUM_MANAGER)
    status, body = await world.call("POST", f"/api/cases/{case_id}/release", Role.MANAGER)
    assert (status, body["released"]) == (200, False)  # not theirs to release
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/presence", Role.MANAGER, json={"state": "typing"}
    )
    assert body["viewers"] == [{"user": "manager-user", "state": "typing"}]
    status, detail = await world.call("GET", f"/api/cases/{case_id}", Role.FORUM_MANAGER)
    assert detail["viewers"] == [{"user": "manager-user", "state": "typing"}]
    assert detail["held_by"]["user"] == "forum-manager-user"
    status, body = await world.call("POST", f"/api/cases/{case_id}/release", Role.FORUM_MANAGER)
    assert body["released"] is True and world.get_case(case_id).assignee is None
