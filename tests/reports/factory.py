"""Cases with known timelines, written straight to the database for report tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from router import audit
from router.models import Case, Post

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


def make_case(
    session: Session,
    *,
    arrived: datetime = T0,
    answer_after_s: int | None = None,
    queue: str = "forum",
    channel: str = "x",
    account: str = "acme",
    priority: int = 3,
    tags: list[str] | None = None,
    assignee: str | None = None,
    needs_approval: bool = False,
    due_after_s: int | None = None,
    resolved_after_s: int | None = None,
    page_pr: bool = False,
    sla_policy: str = "standard",
    posts: bool = True,
) -> Case:
    answered = arrived + timedelta(seconds=answer_after_s) if answer_after_s is not None else None
    case = Case(
        channel=channel,
        account=account,
        author_handle="someone",
        queue=queue,
        priority=priority,
        sla_policy=sla_policy,
        ruleset_version="test",
        tags=tags or [],
        assignee=assignee,
        needs_approval=needs_approval,
        page_pr=page_pr,
        first_inbound_at=arrived,
        last_inbound_at=arrived,
        first_response_at=answered,
        last_response_at=answered,
        first_response_due_at=arrived + timedelta(seconds=due_after_s) if due_after_s is not None else None,
        resolved_at=arrived + timedelta(seconds=resolved_after_s) if resolved_after_s is not None else None,
        status="resolved" if resolved_after_s is not None else "open",
    )
    session.add(case)
    session.flush()
    if posts:
        first = add_post(session, case, arrived, "inbound")
        case.first_post_id = first.id
        if answered:
            add_post(session, case, answered, "outbound")
    return case


_ids = iter(range(10_000_000, 99_999_999))


def add_post(session: Session, case: Case, at: datetime, direction: str) -> Post:
    post = Post(
        channel=case.channel,
        platform_id=str(next(_ids)),
        account=case.account,
        author_handle=case.account if direction == "outbound" else case.author_handle,
        created_at=at,
        direction=direction,
        case_id=case.id,
    )
    session.add(post)
    session.flush()
    return post


def event(session: Session, case: Case, action: str, at: datetime, **details: Any) -> None:
    audit.record(session, action=action, case_id=case.id, at=at, actor="tester", **details)
