"""The fast path of ingest: a whole batch in a dozen set-based statements instead of a dozen per post.

It takes the common shapes: new posts that start a conversation or reply to one we know, in
order. Anything unusual (an edit, a removal, a reply that arrived before its parent, a thread
that must merge) raises `NeedsCarefulPath`, and the batch goes through the per-post path in
router/ingest.py instead, which handles every case. Both must reach the same stored result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import psycopg
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Table,
    and_,
    any_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from channels.base import Direction, InboundPost
from router import metrics
from router.models import OPEN_STATUSES, AuditEvent, Case, CaseStatus, Post, RoutingDecision
from router.routing import Router, decision_row, route, routed_details
from router.sla.clock import apply_due_times, update_pauses
from router.sla.policy import SlaConfig
from router.threads import apply_post_times
from router.timeutil import utcnow
from rules.facts import AuthorHistory, PostFacts, ThreadFacts
from rules.outcome import Decision

OPEN = frozenset(s.value for s in OPEN_STATUSES)
POSTS: Table = Post.__table__  # type: ignore[attr-defined]  # this module speaks Core, not ORM
CASES: Table = Case.__table__  # type: ignore[attr-defined]
DECISIONS: Table = RoutingDecision.__table__  # type: ignore[attr-defined]
AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[attr-defined]
P, C = POSTS.c, CASES.c
CASE_FIELDS = [c.name for c in CASES.columns]


class NeedsCarefulPath(Exception):
    """This batch holds something only the per-post path handles."""


@dataclass
class CaseState:
    """A case as the batch sees it: the stored row's values plus what this batch changes."""

    row: dict[str, Any]
    is_new: bool
    authors: set[str] = field(default_factory=set)
    post_count: int = 0
    recent: list[datetime] = field(default_factory=list)  # post times within reach of "last hour"
    changed: bool = False

    def __getattr__(self, name: str) -> Any:  # lets routing.apply_to_* treat it like a Case
        try:
            return self.__dict__["row"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in CASE_FIELDS:
            self.row[name] = value
        else:
            object.__setattr__(self, name, value)


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    stored_by: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    case_ids: set[int] = field(default_factory=set)


def ingest_batch(
    session: Session, posts: list[InboundPost], router: Router, sla: SlaConfig | None = None
) -> BatchOutcome:
    outcome = BatchOutcome()
    dialect = session.get_bind().dialect.name
    fresh = _drop_repeats(session, posts, outcome, dialect)
    if not fresh:
        return outcome
    keys = [(p.channel, p.platform_id) for p in fresh]
    if session.execute(
        select(P.id).where(pairs_in(P.channel, P.in_reply_to, keys, dialect)).limit(1)
    ).first():
        raise NeedsCarefulPath("a stored post replies to one of these: it arrived first")

    parents = _stored_parents(session, fresh, dialect)
    cases = _stored_cases(session, {p["case_id"] for p in parents.values() if p["case_id"]}, dialect)
    post_ids = allocate_ids(session, POSTS, len(fresh))
    now = utcnow()

    in_batch: dict[tuple[str, str], tuple[int, CaseState | None, InboundPost]] = {}
    placed: list[tuple[int, InboundPost, CaseState | None]] = []
    for post, post_id in zip(fresh, post_ids, strict=True):
        key = (post.channel, post.platform_id)
        case = _case_for(post, parents, cases, in_batch)
        if case is None and post.direction == Direction.INBOUND:
            case = CaseState(row=_new_case_row(post, now), is_new=True)
        in_batch[key] = (post_id, case, post)
        placed.append((post_id, post, case))
        outcome.stored += 1
        outcome.stored_by[(post.channel, post.direction.value)] += 1

    new_cases = list({id(c): c for _, _, c in placed if c is not None and c.is_new}.values())
    for case, case_id in zip(new_cases, allocate_ids(session, CASES, len(new_cases)), strict=True):
        case.id = case_id
    _load_thread_facts(session, cases, placed, dialect)
    histories = _author_histories(session, placed, dialect)
    decisions, audits = _route(router, placed, histories, now, sla)
    outcome.case_ids = {case.id for _, _, case in placed if case is not None}
    # Every row is final by now: each table gets one plain executemany, parents before children.
    _write_rows(session, CASES, [c.row for c in new_cases])
    _write_rows(
        session, POSTS, [{**post_row(p), "id": pid, "case_id": c.id if c else None} for pid, p, c in placed]
    )
    _write_rows(session, DECISIONS, decisions)
    _write_rows(session, AUDIT_EVENTS, audits)
    _update_cases(session, [c for c in cases.values() if c.changed])
    return outcome


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """Primary keys for rows about to be inserted, so the batch links them without RETURNING
    (psycopg re-parses a multi-row RETURNING statement in Python on every call)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count},
        )
        return [r[0] for r in rows]
    # SQLite: a no-op write takes the database's write lock, so no one else can take these ids
    # before we commit.
    session.execute(update(table).where(text("0 = 1")).values(id=table.c.id))
    start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def one_of(column: Any, values: Iterable[Any], dialect: str) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL one array parameter, so the statement's text is the same
    for any number of values and psycopg parses it once instead of on every call."""
    values = sorted(set(values), key=str)
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(None, values, type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(values))


def pairs_in(
    first: Any, second: Any, pairs: Iterable[tuple[str, str | None]], dialect: str
) -> ColumnElement[bool]:
    """`(first, second) IN pairs`, written per value of `first` so PostgreSQL uses both columns of
    the index: it plans a row-value IN as an index scan on `first` alone, filtering the rest."""
    grouped: dict[str, set[str | None]] = defaultdict(set)
    for a, b in pairs:
        grouped[a].add(b)
    return or_(false(), *(and_(first == a, one_of(second, bs, dialect)) for a, bs in grouped.items()))


def _drop_repeats(
    session: Session, posts: list[InboundPost], outcome: BatchOutcome, dialect: str
) -> list[InboundPost]:
    """Exact repeats are counted and dropped; an edit or removal needs the careful path."""
    seen: dict[tuple[str, str], InboundPost] = {}
    for post in posts:
        if post.removed:
            raise NeedsCarefulPath("a removal")
        key = (post.channel, post.platform_id)
        if key in seen:
            if seen[key].text != post.text:
                raise NeedsCarefulPath("an edit within the batch")
            outcome.duplicates += 1
            continue
        seen[key] = post
    stored = session.execute(
        select(P.channel, P.platform_id, P.text, P.removed).where(
            pairs_in(P.channel, P.platform_id, seen, dialect)
        )
    ).all()
    for channel, platform_id, stored_text, removed in stored:
        post = seen.pop((channel, platform_id))
        if removed or (post.text and post.text != stored_text):
            raise NeedsCarefulPath("an edit of a stored post")
        outcome.duplicates += 1
    return list(seen.values())


def _stored_parents(
    session: Session, posts: list[InboundPost], dialect: str
) -> dict[tuple[str, str], dict[str, Any]]:
    wanted = {(p.channel, p.in_reply_to) for p in posts if p.in_reply_to}
    if not wanted:
        return {}
    rows = session.execute(
        select(P.channel, P.platform_id, P.case_id, P.direction, P.in_reply_to).where(
            pairs_in(P.channel, P.platform_id, wanted, dialect)
        )
    ).mappings()
    return {(r["channel"], r["platform_id"]): dict(r) for r in rows}


def _stored_cases(session: Session, ids: set[int], dialect: str) -> dict[int, CaseState]:
    if not ids:
        return {}
    rows = session.execute(select(CASES).where(one_of(C.id, ids, dialect))).mappings()
    cases = {r["id"]: CaseState(row=dict(r), is_new=False) for r in rows}
    if any(c.merged_into_id is not None for c in cases.values()):
        raise NeedsCarefulPath("a reply to a merged case")
    return cases


def _case_for(
    post: InboundPost,
    parents: dict[tuple[str, str], dict[str, Any]],
    cases: dict[int, CaseState],
    in_batch: dict[tuple[str, str], tuple[int, CaseState | None, InboundPost]],
) -> CaseState | None:
    if post.direction == Direction.OUTBOUND and post.in_reply_to is None:
        return None  # our announcement: each reply to it is its own conversation
    if not post.in_reply_to:
        return None
    key = (post.channel, post.in_reply_to)
    if key in in_batch:
        _, case, parent = in_batch[key]
        if case is None and parent.direction == Direction.OUTBOUND and parent.in_reply_to is not None:
            raise NeedsCarefulPath("a reply to our reply whose own parent is missing")
        return _touch(case, post)
    parent_row = parents.get(key)
    if parent_row is None:
        return None
    if parent_row["case_id"] is None:
        if parent_row["direction"] == Direction.OUTBOUND and parent_row["in_reply_to"] is not None:
            raise NeedsCarefulPath("a reply to our reply whose own parent is missing")
        return None
    return _touch(cases[parent_row["case_id"]], post)


def _touch(case: CaseState | None, post: InboundPost) -> CaseState | None:
    late = case is not None and case.first_inbound_at is not None and post.created_at < case.first_inbound_at
    if late and post.direction == Direction.INBOUND:
        raise NeedsCarefulPath("an earlier customer post arrived late")
    return case


def _new_case_row(post: InboundPost, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CASE_FIELDS)
    row.update(
        channel=post.channel,
        account=post.account,
        author_handle=post.author.handle,
        queue="",
        priority=3,
        status=CaseStatus.NEW.value,
        sla_policy="",
        ruleset_version="",
        tags=[],
        risk=0.0,
        page_pr=False,
        needs_approval=False,
        sla_pauses=[],
        created_at=now,
        updated_at=now,
    )
    return row


def post_row(post: InboundPost) -> dict[str, Any]:
    """The stored columns of a normalized post (both ingest paths write exactly these)."""
    return {
        "channel": post.channel,
        "platform_id": post.platform_id,
        "account": post.account,
        "author_handle": post.author.handle,
        "author_platform_id": post.author.platform_user_id,
        "author_name": post.author.display_name,
        "author_followers": post.author.followers,
        "author_verified": post.author.verified,
        "text": post.text,
        "lang": post.lang,
        "created_at": post.created_at,
        "url": post.url,
        "in_reply_to": post.in_reply_to,
        "conversation_id": post.conversation_id,
        "direction": post.direction.value,
        "removed": post.removed,
        "edited_at": None,
        "raw": post.raw or None,
        "case_id": None,
        "ingested_at": utcnow(),
    }


def _load_thread_facts(
    session: Session, cases: dict[int, CaseState], placed: list[Any], dialect: str
) -> None:
    """Counts, authors and recent post times of the stored cases this batch touches."""
    if not cases:
        return
    ids = list(cases)
    earliest = min(p.created_at for _, p, c in placed if c is not None and not c.is_new) - timedelta(hours=1)
    for case_id, author, count in session.execute(
        select(P.case_id, P.author_handle, func.count())
        .where(one_of(P.case_id, ids, dialect))
        .group_by(P.case_id, P.author_handle)
    ):
        cases[case_id].authors.add(author)
        cases[case_id].post_count += count
    for case_id, at in session.execute(
        select(P.case_id, P.created_at).where(one_of(P.case_id, ids, dialect), P.created_at >= earliest)
    ):
        cases[case_id].recent.append(at)


def _author_histories(
    session: Session, placed: list[Any], dialect: str
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every stored case of each author who writes in this batch (for open cases, 30-day counts)."""
    authors = {(p.channel, p.author.handle) for _, p, c in placed if c is not None}
    if not authors:
        return {}
    rows = session.execute(
        select(C.id, C.channel, C.author_handle, C.status, C.first_inbound_at).where(
            pairs_in(C.channel, C.author_handle, authors, dialect)
        )
    ).mappings()
    found: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[(row["channel"], row["author_handle"])].append(dict(row))
    return found


def _route(
    router: Router,
    placed: list[Any],
    histories: dict[tuple[str, str], list[dict[str, Any]]],
    now: datetime,
    sla: SlaConfig | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    decisions: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    seen_cases: set[int] = set()
    for post_id, post, case in placed:
        if case is None:
            audits.append(
                _audit(
                    now,
                    "post.ingested",
                    None,
                    post_id=post_id,
                    platform_id=post.platform_id,
                    channel=post.channel,
                    direction=post.direction.value,
                    case=None,
                )
            )
            continue
        if case.is_new and case.id not in seen_cases:
            audits.append(_audit(now, "case.created", case.id, post_id=post_id))
        seen_cases.add(case.id)
        was_resolved = case.status == CaseStatus.RESOLVED
        apply_post_times(case, post_id, post.direction.value, post.created_at)
        if sla is not None:
            update_pauses(case, post.direction.value, post.created_at)
        case.authors.add(post.author.handle)
        case.post_count += 1
        case.recent.append(post.created_at)
        case.changed = True
        if post.direction == Direction.OUTBOUND:
            audits.append(
                _audit(
                    now,
                    "post.ingested",
                    case.id,
                    post_id=post_id,
                    platform_id=post.platform_id,
                    channel=post.channel,
                    direction=post.direction.value,
                )
            )
            continue
        if was_resolved:
            case.status, case.resolved_at = CaseStatus.OPEN.value, None
            audits.append(_audit(now, "case.reopened", case.id, post_id=post_id))
        decision = _decide(router, post, case, histories)
        is_new = route(case, decision)  # a CaseState quacks like a Case
        decisions.append(decision_row(case.id, post_id, decision, now))
        details = routed_details(
            post_id=post_id,
            platform_id=post.platform_id,
            channel=post.channel,
            case=case,
            decision=decision,
            is_new=is_new,
        )
        audits.append(_audit(now, "case.routed", case.id, **details))
    if sla is not None:  # due times follow from each case's final timeline and policy
        for case in {id(c): c for _, _, c in placed if c is not None}.values():
            apply_due_times(case, sla, now)
    return decisions, audits


def _decide(
    router: Router, post: InboundPost, case: CaseState, histories: dict[tuple[str, str], list[dict[str, Any]]]
) -> Decision:
    hour_ago = post.created_at - timedelta(hours=1)
    thread = ThreadFacts(
        posts=case.post_count,
        distinct_authors=len(case.authors),
        replies_last_hour=max(sum(1 for at in case.recent if hour_ago <= at <= post.created_at) - 1, 0),
    )
    others = [h for h in histories.get((post.channel, post.author.handle), []) if h["id"] != case.id]
    month_ago = post.created_at - timedelta(days=30)
    history = AuthorHistory(
        open_cases=sum(1 for h in others if h["status"] in OPEN),
        cases_30d=sum(1 for h in others if h["first_inbound_at"] and h["first_inbound_at"] >= month_ago),
    )
    if case.is_new:  # later posts of this batch see this case among the author's others
        histories.setdefault((post.channel, post.author.handle), []).append(
            {"id": case.id, "status": CaseStatus.NEW.value, "first_inbound_at": case.first_inbound_at}
        )
    facts = PostFacts(
        text=post.text,
        channel=post.channel,
        account=post.account,
        author_handle=post.author.handle,
        created_at=post.created_at,
        author_followers=post.author.followers,
        author_verified=post.author.verified,
        lang=post.lang,
        thread=thread,
        history=history,
        known_customer=bool(others),
    )
    with metrics.ROUTING_SECONDS.time():
        return router.decide(facts)


def _audit(now: datetime, action: str, case_id: int | None, **details: Any) -> dict[str, Any]:
    return {"at": now, "actor": "system", "action": action, "case_id": case_id, "details": details}


def _write_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    # PostgreSQL: binary COPY streams the rows in one command (executemany costs a statement per
    # row); with the column types declared, psycopg picks each column's dumper once, not per value.
    columns = list(rows[0])
    driver = cast(psycopg.Connection[Any], session.connection().connection.dbapi_connection)
    types = _column_types(driver, table.name, columns)  # not while the COPY holds the connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)  # JSON columns take dicts as they are
        for row in rows:
            copy.write_row([row[c] for c in columns])


_COLUMN_TYPES: dict[tuple[str, str], int] = {}


def _column_types(driver: psycopg.Connection[Any], table: str, columns: list[str]) -> list[int]:
    """The PostgreSQL type oid of each column (built-in types: the same in every database)."""
    if any((table, c) not in _COLUMN_TYPES for c in columns):
        for name, oid in driver.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            (table,),
        ):
            _COLUMN_TYPES[(table, name)] = oid
    return [_COLUMN_TYPES[(table, c)] for c in columns]


def _update_cases(session: Session, cases: list[CaseState]) -> None:
    if not cases:
        return
    now = utcnow()
    for case in cases:
        case.updated_at = now
    session.execute(
        update(Case), [dict(case.row) for case in cases]
    )  # ORM bulk UPDATE by primary key: one executemany
