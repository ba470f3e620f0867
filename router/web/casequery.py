"""Reading the queue for a person: what their role may see, filtered, searched, most urgent first."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import String, and_, cast, func, or_, union_all
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from router.claims import holders
from router.models import OPEN_STATUSES, AuditEvent, Case, CaseStatus, Post, RoutingDecision
from router.notes import notes_for
from router.replies import replies_for
from router.roles import QUEUES_BY_ROLE, RISK_THRESHOLD, Role, sees_risky
from router.timeutil import utcnow
from router.web.settings import QUEUE_SETTINGS
from rules.outcome import Priority

OPEN, ALL = "open", "all"
FILTERS = ("queue", "channel", "account", "priority", "status", "tag", "assignee", "risk", "q")


@dataclass(frozen=True, slots=True)
class CaseQuery:
    queue: str | None = None
    channel: str | None = None
    account: str | None = None
    priority: str | None = None
    status: str = OPEN
    tag: str | None = None
    assignee: str | None = None
    risk: bool = False
    q: str | None = None
    limit: int = 100
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any, *, limit: int = 100, offset: int = 0) -> CaseQuery:
        def get(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value or None

        return cls(
            queue=get("queue"),
            channel=get("channel"),
            account=get("account"),
            priority=get("priority"),
            status=get("status") or OPEN,
            tag=get("tag"),
            assignee=get("assignee"),
            risk=get("risk") in ("1", "true", "yes", "on"),
            q=get("q"),
            limit=limit,
            offset=offset,
        )


def visible(role: Role) -> ColumnElement[bool]:
    queues = sorted(QUEUES_BY_ROLE[role])
    condition: ColumnElement[bool] = col(Case.queue).in_(queues)
    if sees_risky(role):
        condition = or_(condition, col(Case.page_pr).is_(True), col(Case.risk) >= RISK_THRESHOLD)
    return condition


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(text: str) -> ColumnElement[bool]:
    """Every word must appear (case-insensitively) in a post of the case or in the author's handle."""
    conditions = []
    for term in [t for t in text.split() if t][:8]:
        pattern = _like(term)
        post_hit = select(Post.case_id).where(
            col(Post.text).ilike(pattern, escape="\\"), col(Post.removed).is_(False)
        )
        conditions.append(
            or_(col(Case.id).in_(post_hit), col(Case.author_handle).ilike(pattern, escape="\\"))
        )
    return and_(*conditions)


def _where(role: Role, query: CaseQuery) -> list[ColumnElement[bool]]:
    where = [visible(role), col(Case.merged_into_id).is_(None)]
    for name in ("queue", "channel", "account"):
        value = getattr(query, name)
        if value:
            where.append(getattr(Case, name) == value)
    if query.priority:
        try:
            where.append(col(Case.priority) == int(Priority.parse(query.priority)))
        except KeyError:
            where.append(col(Case.priority) == -1)
    if query.assignee:
        where.append(
            col(Case.assignee).is_(None) if query.assignee == "-" else col(Case.assignee) == query.assignee
        )
    if query.tag:
        where.append(cast(col(Case.tags), String).like(_like('"' + query.tag.replace('"', "") + '"')))
    if query.risk:
        where.append(or_(col(Case.page_pr).is_(True), col(Case.risk) >= RISK_THRESHOLD))
    if query.q:
        where.append(_search(query.q))
    return where


def _statuses(query: CaseQuery) -> list[str] | None:
    if query.status == OPEN:
        return [s.value for s in OPEN_STATUSES]
    return None if query.status == ALL else [query.status]


def list_for(session: Session, role: Role, query: CaseQuery) -> list[dict[str, Any]]:
    """Most urgent first: by the earliest running SLA due time (so breached cases lead, most
    overdue first), then priority; cases without a running clock last.

    One ordered, limited scan per status, merged: each walks the (status, next_due_at) index
    and stops after a page, instead of sorting every open case on each request."""
    where, statuses = _where(role, query), _statuses(query)
    window = query.offset + query.limit
    if statuses is None:
        parts = [select(Case.id, Case.next_due_at, Case.priority).where(*where)]
    else:
        parts = [
            select(Case.id, Case.next_due_at, Case.priority).where(*where, col(Case.status) == status)
            for status in statuses
        ]
    ordered = [
        part.order_by(col(Case.next_due_at).asc().nulls_last(), col(Case.priority), col(Case.id))
        .limit(window)
        .subquery()
        for part in parts
    ]
    merged = union_all(*(select(o.c.id, o.c.next_due_at, o.c.priority) for o in ordered)).subquery()
    ids = list(
        session.exec(
            select(merged.c.id)
            .order_by(merged.c.next_due_at.asc().nulls_last(), merged.c.priority, merged.c.id)
            .offset(query.offset)
            .limit(query.limit)
        ).all()
    )
    found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids))).all()}
    return summaries(session, [found[i] for i in ids if i in found])


def counts(session: Session, role: Role) -> dict[str, int]:
    rows = session.exec(
        select(Case.queue, func.count(col(Case.id)))
        .where(visible(role), col(Case.status).in_([s.value for s in OPEN_STATUSES]))
        .group_by(col(Case.queue))
    ).all()
    found = dict(rows)
    return {q: found.get(q, 0) for q in sorted(QUEUES_BY_ROLE[role] | set(found))}


class CountsCache:
    """Per-queue counts for the header, reused for a moment: counting a million open cases on
    every page view is the slowest part of the page, and the numbers move slower than people."""

    def __init__(self) -> None:
        self.values: dict[Role, tuple[float, dict[str, int]]] = {}

    def get(self, session: Session, role: Role, *, ttl: float) -> dict[str, int]:
        now = time.monotonic()
        hit = self.values.get(role)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = counts(session, role)
        self.values[role] = (now, value)
        return value


COUNTS = web.AppKey("queue_counts", CountsCache)


def cached_counts(request: web.Request, session: Session, role: Role) -> dict[str, int]:
    return request.app[COUNTS].get(session, role, ttl=request.app[QUEUE_SETTINGS].counts_cache_seconds)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summaries(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    ids = [c.id for c in cases if c.id is not None]
    posts = {
        p.id: p
        for p in session.exec(
            select(Post).where(col(Post.id).in_([c.first_post_id for c in cases if c.first_post_id]))
        ).all()
    }
    held = holders(session, ids)
    now = utcnow()
    out = []
    for c in cases:
        first = posts.get(c.first_post_id)
        due = c.next_due_at or c.first_response_due_at
        holder = held.get(c.id or 0)
        out.append(
            {
                "id": c.id,
                "queue": c.queue,
                "priority": Priority(c.priority).label if c.priority in (1, 2, 3, 4) else str(c.priority),
                "status": c.status,
                "channel": c.channel,
                "account": c.account,
                "author": c.author_handle,
                "assignee": c.assignee,
                "held_by": {"user": holder.name, "since": _iso(holder.since)} if holder else None,
                "tags": list(c.tags or []),
                "risk": c.risk,
                "page_pr": c.page_pr,
                "needs_approval": c.needs_approval,
                "due_at": _iso(due),
                "breached": bool(due and due < now),
                "first_inbound_at": _iso(c.first_inbound_at),
                "first_response_at": _iso(c.first_response_at),
                "text": first.text if first else "",
                "updated_at": _iso(c.updated_at),
            }
        )
    return out


def _clock(due: datetime | None, met_at: datetime | None, now: datetime) -> dict[str, Any]:
    if due is None:
        return {"due_at": None, "state": "none", "seconds_left": None}
    if met_at is not None:
        return {"due_at": _iso(due), "state": "met" if met_at <= due else "missed", "seconds_left": None}
    left = (due - now).total_seconds()
    return {"due_at": _iso(due), "state": "breached" if left < 0 else "running", "seconds_left": int(left)}


def detail(session: Session, case: Case) -> dict[str, Any]:
    assert case.id is not None
    now = utcnow()
    [summary] = summaries(session, [case])
    posts = session.exec(
        select(Post).where(Post.case_id == case.id).order_by(col(Post.created_at), col(Post.id))
    ).all()
    inbound = [p for p in posts if p.direction == "inbound" and p.author_handle == case.author_handle]
    profile = inbound[-1] if inbound else None
    previous = session.exec(
        select(Case.id, Case.status, Case.created_at)
        .where(
            Case.channel == case.channel,
            Case.author_handle == case.author_handle,
            Case.id != case.id,
            col(Case.merged_into_id).is_(None),
        )
        .order_by(col(Case.id).desc())
        .limit(20)
    ).all()
    decisions = session.exec(
        select(RoutingDecision).where(RoutingDecision.case_id == case.id).order_by(col(RoutingDecision.id))
    ).all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(col(AuditEvent.id))
    ).all()
    answered_last = case.status == CaseStatus.WAITING
    return {
        **summary,
        "resolved_at": _iso(case.resolved_at),
        "sla_policy": case.sla_policy,
        "ruleset_version": case.ruleset_version,
        "conversation": [
            {
                "id": p.id,
                "platform_id": p.platform_id,
                "direction": p.direction,
                "author": p.author_handle,
                "text": p.text,
                "created_at": _iso(p.created_at),
                "url": p.url,
                "removed": p.removed,
            }
            for p in posts
        ],
        "author_profile": {
            "handle": case.author_handle,
            "name": profile.author_name if profile else None,
            "followers": profile.author_followers if profile else 0,
            "verified": profile.author_verified if profile else False,
            "previous_cases": [{"id": i, "status": s, "created_at": _iso(at)} for i, s, at in previous],
        },
        "routing": [
            {
                "at": _iso(d.created_at),
                "ruleset_version": d.ruleset_version,
                "queue": d.queue,
                "matched": d.matched,
                "explanation": d.explanation,
            }
            for d in decisions
        ],
        "sla": {
            "first_response": _clock(case.first_response_due_at, case.first_response_at, now),
            "next_response": _clock(
                case.next_response_due_at, case.last_response_at if answered_last else None, now
            ),
            "resolution": _clock(case.resolution_due_at, case.resolved_at, now),
        },
        "audit": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "details": e.details} for e in events
        ],
        "notes": [
            {"id": n.id, "author": n.author, "text": n.text, "at": _iso(n.created_at)}
            for n in notes_for(session, case.id)
        ],
        "replies": [r.public() for r in replies_for(session, case.id)],
    }
