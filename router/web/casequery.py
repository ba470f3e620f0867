"""Reading the queue for a person: what their role may see, filtered, searched, most urgent first."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import BigInteger, and_, any_, case, cast, exists, func, literal, or_, union_all
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session, col, select

from router.claims import holders
from router.models import OPEN_STATUSES, AuditEvent, Case, CaseStatus, Post, RoutingDecision
from router.notes import notes_for
from router.replies import replies_for
from router.roles import ALL_QUEUES, QUEUES_BY_ROLE, RISK_THRESHOLD, Role, sees_risky
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


def _terms(text: str) -> list[str]:
    return [t for t in text.split() if t][:8]


def _post_hits(pattern: str) -> Select[Any]:
    return select(col(Post.case_id).label("case_id")).where(
        col(Post.text).ilike(pattern, escape="\\"), col(Post.removed).is_(False)
    )


def _search(text: str) -> ColumnElement[bool]:
    """Every word must appear (case-insensitively) in a post of the case or in the author's handle:
    one `id IN (posts that match UNION ALL cases whose author matches)` per word."""
    author = aliased(Case)
    conditions = []
    for term in _terms(text):
        pattern = _like(term)
        by_author: Select[Any] = select(col(author.id).label("case_id")).where(
            col(author.author_handle).ilike(pattern, escape="\\")
        )
        conditions.append(col(Case.id).in_(union_all(_post_hits(pattern), by_author)))
    return and_(*conditions)


RARE_WORD = 20_000  # a word in fewer posts and handles than this is looked up through its index


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How PostgreSQL finds the cases with every word. It cannot tell how many cases
    `IN (… UNION ALL …)` yields, and hashing a million matches of a common word takes seconds. So
    each word is first looked up through its trigram indexes (ix_posts_text_trgm,
    ix_cases_author_trgm), at most RARE_WORD rows: the cases of rare words are intersected here
    (`candidates`); common words (`common`, LIKE patterns) are checked case by case in the
    queue's order (posts by case_id), where a match is never far away."""

    candidates: list[int] | None
    common: list[str]

    @classmethod
    def make(cls, session: Session, text: str) -> SearchPlan:
        candidates: set[int] | None = None
        common = []
        for term in _terms(text):
            pattern = _like(term)
            by_author: Select[Any] = select(col(Case.id).label("case_id")).where(
                col(Case.author_handle).ilike(pattern, escape="\\")
            )
            hits = [_post_hits(pattern), by_author]
            # PostgreSQL's estimate (its sample of posts and handles) tells a common word without
            # reading its matches; a word under three letters has no trigrams to look it up with
            found = None
            if len(term) >= 3 and _estimate(session, union_all(*hits)) < RARE_WORD:
                found = _rare(session, hits)
            if found is None:
                common.append(pattern)
                continue
            candidates = found if candidates is None else candidates & found
        return cls(None if candidates is None else sorted(candidates), common)

    def matches(self, case_id: Any, author: Any) -> list[ColumnElement[bool]]:
        """The common words, on these columns of the cases."""
        return [
            or_(
                exists(_post_hits(p).where(col(Post.case_id) == case_id)),
                author.ilike(p, escape="\\"),
            )
            for p in self.common
        ]


def _rare(session: Session, hits: list[Select[Any]]) -> set[int] | None:
    """The case ids these queries yield, or None if one yields RARE_WORD rows or more: one round
    trip, each query stopped at RARE_WORD rows, and the ids sent back only when they are few."""
    limited = [h.limit(RARE_WORD).subquery() for h in hits]
    tagged = union_all(*(select(literal(n).label("source"), q.c.case_id) for n, q in enumerate(limited)))
    rows = tagged.subquery()
    found = func.count()
    answer = session.execute(
        select(found, case((found < RARE_WORD, func.array_agg(rows.c.case_id)), else_=None))
        .select_from(rows)
        .group_by(rows.c.source)
    ).all()
    if any(n >= RARE_WORD for n, _ in answer):
        return None
    return {i for _, ids in answer for i in ids or () if i is not None}


def _tagged(tag: str, dialect: str) -> ColumnElement[bool]:
    """Tags are a JSON list. PostgreSQL: jsonb containment, served by the GIN index ix_cases_tags;
    SQLite: a look through the list with json_each."""
    tag = tag.strip().lower()  # tags are stored lower-case (router/web/casework.py set_tags)
    if dialect == "postgresql":
        return col(Case.tags).op("@>")(cast(literal(json.dumps([tag])), JSONB))
    each = func.json_each(col(Case.tags)).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def _where(session: Session, role: Role, query: CaseQuery) -> list[ColumnElement[bool]]:
    dialect = _dialect(session)
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
        where.append(_tagged(query.tag, dialect))
    if query.risk:
        where.append(or_(col(Case.page_pr).is_(True), col(Case.risk) >= RISK_THRESHOLD))
    if query.q and dialect != "postgresql":  # (PostgreSQL: SearchPlan, in page_ids)
        where.append(_search(query.q))
    return where


def _statuses(query: CaseQuery) -> list[str]:
    if query.status == OPEN:
        return [s.value for s in OPEN_STATUSES]
    # "all" is every status, one ordered walk each (a merged case lives on in another: never listed)
    return [s.value for s in CaseStatus] if query.status == ALL else [query.status]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _order(id_: Any, due: Any, priority: Any) -> tuple[Any, ...]:
    return (due.asc().nulls_last(), priority, id_)


def page_ids(session: Session, role: Role, query: CaseQuery) -> list[int]:
    """The ids of one page of the queue. Most urgent first: by the earliest running SLA due time
    (so breached cases lead, most overdue first), then priority; cases without a running clock last.

    One ordered, limited scan per status, merged: each walks a (status, [filter,] next_due_at)
    index and stops after a page, instead of sorting every open case on each request."""
    postgres = _dialect(session) == "postgresql"
    if postgres:
        # The best plan depends on the values (a rare tag is looked up, a common one walked):
        # psycopg prepares a statement run five times, and PostgreSQL would then settle on a
        # generic plan made without them (a walk past every case for a tag nobody has).
        session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    where, window = _where(session, role, query), query.offset + query.limit
    statuses = _statuses(query)
    search = SearchPlan.make(session, query.q) if query.q and postgres else None
    if search is not None and search.candidates is not None:
        return _page_of_candidates(session, where, statuses, search, query)
    if search is not None:
        where += search.matches(Case.id, col(Case.author_handle))
    parts = [
        select(Case.id, Case.next_due_at, Case.priority)
        .where(*where, col(Case.status) == status)
        .order_by(*_order(col(Case.id), col(Case.next_due_at), col(Case.priority)))
        .limit(window)
        .subquery()
        for status in statuses
    ]
    merged = union_all(*(select(o.c.id, o.c.next_due_at, o.c.priority) for o in parts)).subquery()
    return list(
        session.exec(
            select(merged.c.id)
            .order_by(*_order(merged.c.id, merged.c.next_due_at, merged.c.priority))
            .offset(query.offset)
            .limit(query.limit)
        ).all()
    )


def _page_of_candidates(
    session: Session,
    where: list[ColumnElement[bool]],
    statuses: list[str],
    search: SearchPlan,
    query: CaseQuery,
) -> list[int]:
    """A search with a rare word: at most RARE_WORD candidate cases, sorted, and the common words
    checked in that order only until the page is full (OFFSET 0 keeps the sort below the check)."""
    if not search.candidates:
        return []
    ids = cast(literal(search.candidates), ARRAY(BigInteger))
    ordered = (
        select(Case.id, Case.next_due_at, Case.priority, Case.author_handle)
        .where(*where, col(Case.status).in_(statuses), col(Case.id) == any_(ids))
        .order_by(*_order(col(Case.id), col(Case.next_due_at), col(Case.priority)))
        .offset(0)
        .subquery()
    )
    rows = session.exec(
        select(ordered.c.id, ordered.c.next_due_at, ordered.c.priority)
        .where(*search.matches(ordered.c.id, ordered.c.author_handle))
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    # (the order is the subquery's; sorted again here so a plan that reorders cannot reorder the page)
    return [row[0] for row in sorted(rows, key=lambda r: (r[1] is None, r[1] or 0, r[2], r[0]))]


def cases_for(session: Session, role: Role, query: CaseQuery) -> list[Case]:
    """One page of the queue as the cases themselves, in the queue's order (`page_ids`)."""
    ids = page_ids(session, role, query)
    found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]


def list_for(session: Session, role: Role, query: CaseQuery) -> list[dict[str, Any]]:
    return summaries(session, cases_for(session, role, query))


COUNT_CAP = 1_000


def _estimate(session: Session, query: Any) -> int:
    """PostgreSQL's own estimate of how many rows the query returns, from its statistics."""
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    plan = (
        session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
        .scalar_one()
    )
    return int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


def counts(session: Session, role: Role) -> dict[str, int]:
    """Open cases per queue the role sees. Counted exactly up to COUNT_CAP per queue (a short
    index walk); beyond that PostgreSQL's estimate stands in, so a header never counts a
    million rows."""
    found: dict[str, int] = {}
    postgres = _dialect(session) == "postgresql"
    for name in sorted(ALL_QUEUES if sees_risky(role) else QUEUES_BY_ROLE[role]):
        open_in_queue = select(Case.id).where(
            visible(role),
            col(Case.status).in_([s.value for s in OPEN_STATUSES]),
            col(Case.queue) == name,
        )
        capped = session.exec(
            select(func.count()).select_from(open_in_queue.limit(COUNT_CAP).subquery())
        ).one()
        if capped >= COUNT_CAP:
            exact = select(func.count()).select_from(open_in_queue.subquery())
            capped = (
                max(COUNT_CAP, _estimate(session, open_in_queue)) if postgres else session.exec(exact).one()
            )
        if capped or name in QUEUES_BY_ROLE[role]:
            found[name] = capped
    return found


class CountsCache:
    """Per-queue counts for the header, reused for a moment: the numbers move slower than people."""

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
