"""Reading the unified queue: open cases across channels, most urgent first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from router.models import Case, Post, RoutingDecision
from router.roles import Role
from router.web.casequery import OPEN, CaseQuery, cases_for
from rules.outcome import Priority


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
    """The queue as the web UI and API list it (router/web/casequery.py, one query for both), seen
    as a manager sees it: breached first (the earliest due time leads), then by the next due
    time, then by priority; cases without a running clock last. `now` is not needed for that order
    and is accepted for older callers."""
    del now
    query = CaseQuery(queue=flt.queue, status=flt.status, limit=flt.limit, offset=flt.offset)
    return _summaries(session, cases_for(session, Role.MANAGER, query))


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
