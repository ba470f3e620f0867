"""Reading the queue for a person: what their role may see, filtered, searched, most urgent first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, or_
from sqlalchemy import case as sql_case
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from router.claims import holders
from router.models import OPEN_STATUSES, AuditEvent, Case, CaseStatus, Post, RoutingDecision
from router.notes import notes_for
from router.replies import replies_for
from router.roles import QUEUES_BY_ROLE, RISK_THRESHOLD, Role, sees_risky
from router.timeutil import utcnow
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


def due_column() -> ColumnElement[Any]:
    return func.coalesce(col(Case.next_due_at), col(Case.first_response_due_at))


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(session: Session, text: str) -> ColumnElement[bool]:
    terms = [t for t in text.split() if t][:8]
    postgres = session.get_bind().dialect.name == "postgresql"
    conditions = []
    for term in terms:
        if postgres:
            matches = func.to_tsvector("simple", col(Post.text)).op("@@")(
                func.plainto_tsquery("simple", term)
            )
            in_posts = or_(matches, col(Post.text).ilike(_like(term), escape="\\"))
        else:
            in_posts = col(Post.text).ilike(_like(term), escape="\\")
        post_hit = select(Post.case_id).where(in_posts, col(Post.removed).is_(False))
        conditions.append(
            or_(col(Case.id).in_(post_hit), col(Case.author_handle).ilike(_like(term), escape="\\"))
        )
    return and_(*conditions)


def _where(session: Session, role: Role, query: CaseQuery) -> list[ColumnElement[bool]]:
    where = [visible(role), col(Case.merged_into_id).is_(None)]
    if query.status == OPEN:
        where.append(col(Case.status).in_([s.value for s in OPEN_STATUSES]))
    elif query.status != ALL:
        where.append(col(Case.status) == query.status)
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
        where.append(_search(session, query.q))
    return where


def list_for(session: Session, role: Role, query: CaseQuery) -> list[dict[str, Any]]:
    """Breached first (most urgent priority first), then nearest due, then priority."""
    now, due = utcnow(), due_column()
    breached = sql_case((due < now, 0), else_=1)
    cases = session.exec(
        select(Case)
        .where(*_where(session, role, query))
        .order_by(
            breached,
            sql_case((due < now, col(Case.priority)), else_=0),
            due.is_(None),
            due,
            col(Case.priority),
            col(Case.id),
        )
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    return summaries(session, list(cases))


def counts(session: Session, role: Role) -> dict[str, int]:
    rows = session.exec(
        select(Case.queue, func.count(col(Case.id)))
        .where(visible(role), col(Case.status).in_([s.value for s in OPEN_STATUSES]))
        .group_by(col(Case.queue))
    ).all()
    found = dict(rows)
    return {q: found.get(q, 0) for q in sorted(QUEUES_BY_ROLE[role] | set(found))}


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
