"""Joining posts into cases through the reply chain, whatever order they arrive in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, col, select

from router import audit
from router.models import OPEN_STATUSES, Case, CaseStatus, Post
from router.timeutil import utcnow
from rules.facts import AuthorHistory, ThreadFacts


def live_case(session: Session, case_id: int | None) -> Case | None:
    """The case a post belongs to, following merges to the surviving case."""
    seen = 0
    while case_id is not None and seen < 50:
        case = session.get(Case, case_id)
        if case is None or case.merged_into_id is None:
            return case
        case_id, seen = case.merged_into_id, seen + 1
    return None


def related_cases(session: Session, post: Post) -> tuple[Post | None, list[Post], list[Case]]:
    """The post's parent, its already-stored replies, and the cases either belongs to."""
    parent = None
    if post.in_reply_to:
        parent = session.exec(
            select(Post).where(Post.channel == post.channel, Post.platform_id == post.in_reply_to)
        ).first()
    children = list(
        session.exec(
            select(Post).where(Post.channel == post.channel, Post.in_reply_to == post.platform_id)
        ).all()
    )
    cases: dict[int, Case] = {}
    for linked in ([parent] if parent else []) + children:
        case = live_case(session, linked.case_id)
        if case is not None and case.id is not None:
            cases[case.id] = case
    return parent, children, sorted(cases.values(), key=lambda c: c.id or 0)


def is_broadcast(post: Post) -> bool:
    """Our own top-level post (an announcement): each reply to it is its own conversation."""
    return post.direction == "outbound" and post.in_reply_to is None


def merge(session: Session, *, into: Case, other: Case) -> None:
    """Fold `other` into `into`: one thread turned out to be one conversation."""
    for moved in session.exec(select(Post).where(Post.case_id == other.id)).all():
        moved.case_id = into.id
        session.add(moved)
    other.status = CaseStatus.MERGED
    other.merged_into_id = into.id
    other.updated_at = utcnow()
    into.tags = sorted(set(into.tags) | set(other.tags))
    into.priority = min(into.priority, other.priority)
    into.risk = max(into.risk, other.risk)
    into.page_pr = into.page_pr or other.page_pr
    session.add(other)
    audit.record(session, action="case.merged", case_id=into.id, merged_case_id=other.id)


def adopt_orphans(session: Session, case: Case, parent: Post | None, children: list[Post]) -> None:
    """Our replies whose own parent is missing have no case yet; they belong to this one."""
    for orphan in ([parent] if parent else []) + children:
        if orphan.case_id is None and not is_broadcast(orphan):
            orphan.case_id = case.id
            session.add(orphan)


def refresh_case_times(session: Session, case: Case) -> None:
    """Recompute the timeline from the case's posts, so out-of-order arrival gives the same
    answer as in-order arrival."""
    session.flush()
    rows = session.exec(
        select(Post.id, Post.direction, Post.created_at)
        .where(Post.case_id == case.id, col(Post.removed).is_(False))
        .order_by(col(Post.created_at), col(Post.id))
    ).all()
    inbound = [(pid, at) for pid, direction, at in rows if direction == "inbound"]
    if not inbound:
        return
    first_post_id, first_in = inbound[0]
    responses = [at for _, direction, at in rows if direction == "outbound" and at >= first_in]
    case.first_post_id = first_post_id
    case.first_inbound_at = first_in
    case.last_inbound_at = inbound[-1][1]
    case.first_response_at = responses[0] if responses else None
    case.last_response_at = responses[-1] if responses else None
    case.status = next_status(case)
    case.updated_at = utcnow()
    session.add(case)


class _Timeline(Protocol):
    status: str
    first_post_id: int | None
    first_inbound_at: datetime | None
    last_inbound_at: datetime | None
    first_response_at: datetime | None
    last_response_at: datetime | None


def next_status(case: _Timeline) -> str:
    """Waiting when we spoke last, open once a conversation is under way; closed states stay."""
    if case.status not in OPEN_STATUSES:
        return case.status
    answered_last = (
        case.last_response_at is not None
        and case.last_inbound_at is not None
        and case.last_response_at >= case.last_inbound_at
    )
    if answered_last:
        return CaseStatus.WAITING
    if case.status == CaseStatus.WAITING or case.first_response_at is not None:
        return CaseStatus.OPEN
    return case.status


def apply_post_times(case: _Timeline, post_id: int, direction: str, at: datetime) -> None:
    """The incremental form of refresh_case_times, for a post later than the case's first."""
    if direction == "inbound":
        if case.first_inbound_at is None or at < case.first_inbound_at:
            case.first_inbound_at, case.first_post_id = at, post_id
        case.last_inbound_at = max(case.last_inbound_at or at, at)
    elif case.first_inbound_at is not None and at >= case.first_inbound_at:
        case.first_response_at = min(case.first_response_at or at, at)
        case.last_response_at = max(case.last_response_at or at, at)
    case.status = next_status(case)


def thread_facts(session: Session, case: Case, post: Post) -> ThreadFacts:
    since = post.created_at - timedelta(hours=1)
    posts, authors, recent = session.exec(
        select(
            func.count(col(Post.id)),
            func.count(func.distinct(Post.author_handle)),
            func.sum(sql_case((col(Post.created_at).between(since, post.created_at), 1), else_=0)),
        ).where(Post.case_id == case.id)
    ).one()
    return ThreadFacts(
        posts=posts or 1, distinct_authors=authors or 1, replies_last_hour=max((recent or 1) - 1, 0)
    )


def author_history(session: Session, case: Case, post: Post) -> tuple[AuthorHistory, bool]:
    """The author's other cases on this channel, and whether they have had any before."""
    since = post.created_at - timedelta(days=30)
    open_cases, recent, total = session.exec(
        select(
            func.count(col(Case.id)).filter(col(Case.status).in_([s.value for s in OPEN_STATUSES])),
            func.count(col(Case.id)).filter(col(Case.first_inbound_at) >= since),
            func.count(col(Case.id)),
        ).where(Case.channel == post.channel, Case.author_handle == post.author_handle, Case.id != case.id)
    ).one()
    return AuthorHistory(open_cases=open_cases or 0, cases_30d=recent or 0), bool(total)
