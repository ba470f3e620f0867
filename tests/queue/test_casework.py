"""Handoff, resolve and reopen, notes, tags, bulk actions, visibility by role, the queue's order,
filters, search and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from router.models import AuditEvent, Case
from router.roles import Role
from router.timeutil import utcnow
from tests.queue.conftest import World


def set_due(world: World, case_id: int, minutes: float, priority: int | None = None) -> None:
    with Session(world.engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.first_response_due_at = case.next_due_at = utcnow() + timedelta(minutes=minutes)
        if priority is not None:
            case.priority = priority
        s.add(case)
        s.commit()


@pytest.mark.asyncio
async def test_handoff_moves_the_case_with_a_reason_and_the_new_queue_sees_it(world: World) -> None:
    case_id = world.case("is this a recall?")
    _, before = await world.call("GET", "/api/cases", Role.PR)
    assert case_id not in [c["id"] for c in before["cases"]]
    status, body = await world.call(
        "POST", f"/api/cases/{case_id}/handoff", Role.FORUM_MANAGER, json={"queue": "pr", "reason": ""}
    )
    assert status == 422 and body["error"]["code"] == "reason_required"
    status, _ = await world.call(
        "POST", f"/api/cases/{case_id}/handoff", Role.FORUM_MANAGER, json={"queue": "pr", "reason": "press"}
    )
    assert status == 200 and world.get_case(case_id).queue == "pr"
    _, after = await world.call("GET", "/api/cases", Role.PR)
    assert case_id in [c["id"] for c in after["cases"]]
    with Session(world.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "case.handoff")).one()
    assert (
        event.details == {"from_queue": "forum", "to_queue": "pr", "reason": "press"}
        and event.actor == "forum-manager-user"
    )
    status, _ = await world.call("GET", f"/api/cases/{case_id}", Role.CUSTOMER_SERVICE)
    assert status == 403


@pytest.mark.asyncio
async def test_visibility_by_role(world: World) -> None:
    forum, cs, pr, risky = world.case("a"), world.case("b #cs"), world.case("c #pr"), world.case("d #risky")
    seen = {}
    for role in Role:
        _, body = await world.call("GET", "/api/cases", role)
        seen[role] = {c["id"] for c in body["cases"]}
    assert seen[Role.FORUM_MANAGER] == seen[Role.MANAGER] == {forum, cs, pr, risky}
    assert seen[Role.CUSTOMER_SERVICE] == {cs}
    assert seen[Role.PR] == {pr, risky}  # its queue and anything risky
    assert seen[Role.ADMIN] == set()
    _, body = await world.call("GET", "/api/cases", Role.CUSTOMER_SERVICE)
    assert body["counts"] == {"customer_service": 1}
    _, body = await world.call("GET", "/api/cases", Role.MANAGER)
    assert body["counts"] == {"customer_service": 1, "forum": 2, "pr": 1}


@pytest.mark.asyncio
async def test_the_queue_puts_breached_first_then_nearest_due_then_priority(world: World) -> None:
    later, soon, long_overdue, overdue, no_due, tie_low, tie_urgent = (world.case(t) for t in "abcdefg")
    set_due(world, later, 60)
    set_due(world, soon, 5)
    set_due(world, long_overdue, -30, priority=4)
    set_due(world, overdue, -1, priority=1)
    with Session(world.engine) as s:  # the same due time: the more urgent first
        due = utcnow() + timedelta(minutes=30)
        for case_id, priority in ((tie_low, 4), (tie_urgent, 1)):
            case = s.get(Case, case_id)
            case.next_due_at, case.priority = due, priority  # type: ignore[union-attr]
            s.add(case)
        s.commit()
    await world.call("POST", f"/api/cases/{later}/reply", Role.FORUM_MANAGER, json={"text": "hi"})  # waiting
    expected = [long_overdue, overdue, soon, tie_urgent, tie_low, later, no_due]
    _, body = await world.call("GET", "/api/cases", Role.FORUM_MANAGER)
    assert [c["id"] for c in body["cases"]] == expected
    assert [c["breached"] for c in body["cases"]] == [True, True, False, False, False, False, False]
    pages = []
    for offset in range(0, 7, 3):
        _, body = await world.call("GET", f"/api/cases?limit=3&offset={offset}", Role.FORUM_MANAGER)
        pages += [c["id"] for c in body["cases"]]
    assert pages == expected


@pytest.mark.asyncio
async def test_filters_and_full_text_search(world: World) -> None:
    refund = world.case("where is my REFUND please", author="ana")
    world.case("the app crashes #cs", author="bo")
    urgent = world.case("site down #urgent", author="cy")

    async def ids(query: str) -> set[int]:
        status, body = await world.call("GET", f"/api/cases?{query}", Role.MANAGER)
        assert status == 200, body
        return {c["id"] for c in body["cases"]}

    assert await ids("q=refund") == {refund}
    assert await ids("q=refund+please") == {refund}
    assert await ids("q=refund+crashes") == set()
    assert await ids("q=cy") == {urgent}  # the author's handle
    assert await ids("q=100%25") == set()  # LIKE wildcards are literal
    assert await ids("priority=urgent") == {urgent}
    assert len(await ids("queue=customer_service")) == 1
    assert await ids("channel=facebook") == set()
    await world.call("POST", f"/api/cases/{refund}/tags", Role.MANAGER, json={"add": ["Billing"]})
    assert await ids("tag=billing") == {refund}
    await world.call("POST", f"/api/cases/{urgent}/claim", Role.MANAGER)
    assert await ids("assignee=manager-user") == {urgent}
    assert urgent not in await ids("assignee=-")


@pytest.mark.asyncio
async def test_resolve_reopen_notes_and_a_held_case(world: World) -> None:
    case_id = world.case()
    await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    status, body = await world.call("POST", f"/api/cases/{case_id}/resolve", Role.FORUM_MANAGER)
    assert status == 409 and body["error"]["holder"] == "manager-user"
    status, _ = await world.call(
        "POST", f"/api/cases/{case_id}/notes", Role.FORUM_MANAGER, json={"text": "fyi"}
    )
    assert status == 201  # notes need no claim
    status, _ = await world.call("POST", f"/api/cases/{case_id}/resolve", Role.MANAGER)
    case = world.get_case(case_id)
    assert status == 200 and case.status == "resolved" and case.resolved_at and case.assignee is None
    assert case.first_response_at is None  # resolving does not count as an answer
    status, _ = await world.call("POST", f"/api/cases/{case_id}/reopen", Role.FORUM_MANAGER)
    assert status == 200 and world.get_case(case_id).status == "open"
    _, detail = await world.call("GET", f"/api/cases/{case_id}", Role.FORUM_MANAGER)
    assert [n["text"] for n in detail["notes"]] == ["fyi"]
    assert [e["action"] for e in detail["audit"]][-3:] == ["case.resolved", "case.released", "case.reopened"]


@pytest.mark.asyncio
async def test_bulk_resolve_reports_the_cases_it_could_not_change(world: World) -> None:
    spam = [world.case(f"buy followers {i}", author=f"bot{i}") for i in range(3)]
    await world.call("POST", f"/api/cases/{spam[1]}/claim", Role.MANAGER)
    cs_case = world.case("help #cs", author="real")
    status, body = await world.call(
        "POST",
        "/api/cases/bulk",
        Role.FORUM_MANAGER,
        json={"ids": [*spam, cs_case, 999999], "action": "resolve"},
    )
    assert status == 200 and body["done"] == [spam[0], spam[2], cs_case]
    assert body["refused"][str(spam[1])]["code"] == "held"
    assert body["refused"]["999999"]["code"] == "not_found"
    assert world.get_case(spam[1]).status != "resolved"


@pytest.mark.asyncio
async def test_the_case_detail_explains_itself(world: World) -> None:
    earlier = world.case("first time", author="zoe")
    case_id = world.case("legal threat #pr", author="zoe")
    _, detail = await world.call("GET", f"/api/cases/{case_id}", Role.PR)
    assert detail["routing"][-1]["explanation"]["why"] == [{"rule": "marker", "because": "text has a marker"}]
    assert detail["routing"][-1]["ruleset_version"] == "queue-test-1"
    assert [p["text"] for p in detail["conversation"]] == ["legal threat #pr"]
    assert detail["author_profile"]["followers"] == 120
    assert earlier in [p["id"] for p in detail["author_profile"]["previous_cases"]]
    assert set(detail["sla"]) == {"first_response", "next_response", "resolution"}
    assert [e["action"] for e in detail["audit"]][:2] == ["case.created", "case.routed"]
    with Session(world.engine) as s:
        assert s.exec(select(Case.id).order_by(col(Case.id))).all() == [earlier, case_id]
