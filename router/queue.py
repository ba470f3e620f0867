"""Reading the unified queue: open cases across channels, most urgent first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, col, select

from router.models import OPEN_STATUSES, Case, Post, RoutingDecision
from router.timeutil import utcnow
from rules.outcome import Priority

ALL = "all"
OPEN = "open"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    queue: str | None = None
    status: str = OPEN  # "open" = new, open or waiting; "all"; or one status
    limit: int = 1000
    offset: int = 0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_summary(case: Case, first_post: Post | None, decision: RoutingDecision | None) -> dict[str, Any]:
    return {
        "id": case.id,
        "queue": case.queue,
        "priority": Priority(case.priority).label,
        "status": case.status,
        "channel": case.channel,
        "account": case.account,
        "author": case.author_handle,
        "assignee": case.assignee,
        "sla_policy": case.sla_policy,
        "tags": case.tags,
        "risk": case.risk,
        "page_pr": case.page_pr,
        "needs_approval": case.needs_approval,
        "first_inbound_at": _iso(case.first_inbound_at),
        "first_response_at": _iso(case.first_response_at),
        "first_response_s": (
            (case.first_response_at - case.first_inbound_at).total_seconds()
            if case.first_response_at and case.first_inbound_at
            else None
        ),
        "last_inbound_at": _iso(case.last_inbound_at),
        "first_response_due_at": _iso(case.first_response_due_at),
        "next_response_due_at": _iso(case.next_response_due_at),
        "resolution_due_at": _iso(case.resolution_due_at),
        "next_due_at": _iso(case.next_due_at),
        "first_post": (
            {"platform_id": first_post.platform_id, "text": first_post.text, "url": first_post.url}
            if first_post
            else None
        ),
        "routing": decision.explanation if decision else None,
    }


def list_cases(session: Session, flt: QueueFilter, now: datetime | None = None) -> list[dict[str, Any]]:
    """Breached first (next_due_at before `now`), then by the next due time, then by priority."""
    query = select(Case)
    if flt.status == OPEN:
        query = query.where(col(Case.status).in_([s.value for s in OPEN_STATUSES]))
    elif flt.status != ALL:
        query = query.where(Case.status == flt.status)
    else:
        query = query.where(Case.merged_into_id == None)  # noqa: E711  (a merged case lives on in another)
    if flt.queue:
        query = query.where(Case.queue == flt.queue)
    breached = sql_case((col(Case.next_due_at) < (now or utcnow()), 0), else_=1)
    query = query.order_by(
        breached,
        col(Case.next_due_at).is_(None),
        col(Case.next_due_at),
        col(Case.priority),
        col(Case.first_inbound_at),
        col(Case.id),
    )
    cases = session.exec(query.offset(flt.offset).limit(flt.limit)).all()
    return _summaries(session, cases)


def _summaries(session: Session, cases: Sequence[Case]) -> list[dict[str, Any]]:
    post_ids = [c.first_post_id for c in cases if c.first_post_id]
    case_ids = [c.id for c in cases]
    posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(post_ids))).all()}
    latest = (
        select(func.max(RoutingDecision.id))
        .where(col(RoutingDecision.case_id).in_(case_ids))
        .group_by(col(RoutingDecision.case_id))
    )
    decisions = {
        d.case_id: d
        for d in session.exec(select(RoutingDecision).where(col(RoutingDecision.id).in_(latest))).all()
    }
    return [case_summary(c, posts.get(c.first_post_id), decisions.get(c.id or 0)) for c in cases]
