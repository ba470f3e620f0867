"""Incidents: one per thread (or per SLA breach), paged to a rotation until someone acknowledges.

Live state is in Redis (a hash per incident, created atomically by a Lua script, so a burst of
fifty risky posts on one thread makes one incident); every step is also an audit event on the
case: `incident.opened`, `incident.joined`, `page.sent`, `page.held`, `incident.acknowledged`,
`incident.resolved`, `incident.unanswered`.

Paging: `page_next(key, n)` pages the n-th person (the rotation's on-call first, then whoever is
next; round again when everyone was paged, up to `max_pages`), once per configured transport
(workers/paging/deliver.py), and schedules page n+1 after `repage_after` unless acknowledged.
A non-critical page in the rotation's quiet hours waits until they end.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from redis.client import Pipeline
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from router import audit
from router.db import get_engine
from router.models import OPEN_STATUSES, Case, Post
from router.sla.policy import SlaConfig
from router.timeutil import utcnow
from workers.connection import redis_connection
from workers.paging.base import PageAction, Severity
from workers.queues import PAGING, queue

log = logging.getLogger(__name__)

ACTOR = "paging"
PREFIX = "engage:incident:"
CASE_PREFIX = "engage:incident-of-case:"
RESOLVED_TTL = 30 * 24 * 3600
_KEY_SAFE = re.compile(r"^[\x21-\x7e]{1,200}$")
_OPEN = frozenset(s.value for s in OPEN_STATUSES)

# KEYS: incident hash, its case set, its paged list. ARGV: case id, now, summary, severity, rotation.
_OPEN_OR_JOIN = """
local status = redis.call('HGET', KEYS[1], 'status')
if status and status ~= 'resolved' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'signals', 1)
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'status', 'triggered', 'opened_at', ARGV[2], 'summary', ARGV[3],
  'severity', ARGV[4], 'rotation', ARGV[5], 'case', ARGV[1], 'signals', 1, 'pages', 0)
redis.call('PERSIST', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
# KEYS: incident hash. ARGV: from status, to status, by, at. Returns 1 when it moved.
_MOVE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if ARGV[1] ~= '*' and status ~= ARGV[1] then return 0 end
if status == ARGV[2] or status == 'resolved' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[2] .. '_by', ARGV[3], ARGV[2] .. '_at', ARGV[4])
return 1
"""


@dataclass(frozen=True)
class Incident:
    key: str
    status: str
    summary: str
    severity: Severity
    rotation: str | None
    case_id: int
    case_ids: frozenset[int]
    paged: tuple[str, ...]
    signals: int
    opened_at: datetime
    acknowledged_by: str | None = None


def thread_keys(session: Session, cases: Sequence[Case]) -> dict[int, str]:
    """One incident per thread: the conversation of each case's first post, else the case.
    One query for the batch."""
    first_posts = [c.first_post_id for c in cases if c.first_post_id is not None]
    roots: dict[int, str | None] = {}
    if first_posts:
        query = select(Post.id, Post.conversation_id, Post.in_reply_to, Post.platform_id).where(
            col(Post.id).in_(first_posts)
        )
        for post_id, conversation, in_reply_to, platform_id in session.exec(query):
            if post_id is not None:
                roots[post_id] = conversation or in_reply_to or platform_id
    keys = {}
    for case in cases:
        assert case.id is not None
        root = roots.get(case.first_post_id) if case.first_post_id is not None else None
        key = f"thread:{case.channel}:{root}" if root is not None else f"case:{case.id}"
        keys[case.id] = (
            key if _KEY_SAFE.match(key) else f"thread:{hashlib.sha256(key.encode()).hexdigest()[:40]}"
        )
    return keys


def consider(case: Case, config: SlaConfig, *, connection: redis.Redis, engine: Engine) -> str | None:
    """Open (or join) the thread's incident when the case calls for PR; returns the key."""
    keys = consider_many([case], config, connection=connection, engine=engine)
    return keys[0] if keys else None


def consider_many(
    cases: Sequence[Case], config: SlaConfig, *, connection: redis.Redis, engine: Engine
) -> list[str]:
    """`consider` for a batch of cases (a burst of risky posts): one round trip learns which cases
    already raised their incident, the rest open or join theirs in one transaction. Returns the
    keys of the incidents opened or joined."""
    risky = [c for c in cases if _calls_for_pr(c, config)]
    if not risky:
        return []
    with connection.pipeline(transaction=False) as pipe:
        for case in risky:
            pipe.exists(CASE_PREFIX + str(case.id))
        raised = pipe.execute()
    fresh = [c for c, done in zip(risky, raised, strict=True) if not done]  # new posts on a case add no pages
    if not fresh:
        return []
    now, rotation = utcnow(), config.paging.rotation
    with Session(engine) as session:
        keys = thread_keys(session, fresh)
        signals = []
        with connection.pipeline(transaction=False) as pipe:  # in order: a thread opens once
            for case in fresh:
                assert case.id is not None
                severity = Severity.CRITICAL if case.risk >= config.paging.critical_risk else Severity.ERROR
                reason = "page: pr" if case.page_pr else f"risk {case.risk:.2f}"
                summary = (
                    f"Risky thread ({reason}): case {case.id} by @{case.author_handle} on {case.channel}"
                )
                _open_or_join(pipe, keys[case.id], case.id, now, summary, severity, rotation)
                signals.append((case.id, keys[case.id], reason))
            created = pipe.execute()[::2]  # each case: the script's answer, then the SET
        for (case_id, key, reason), opened in zip(signals, created, strict=True):
            _record_signal(session, key, case_id, now, reason, created=bool(opened))
        session.commit()
    _page_first([key for (_, key, _), opened in zip(signals, created, strict=True) if opened], connection)
    return [key for _, key, _ in signals]


def _calls_for_pr(case: Case, config: SlaConfig) -> bool:
    risky = case.page_pr or case.risk >= config.paging.risk_threshold
    return risky and case.status in _OPEN and case.id is not None and config.paging.rotation is not None


def open_or_join(
    case_id: int,
    *,
    rotation: str | None,
    summary: str,
    severity: Severity,
    reason: str,
    key: str | None = None,
    connection: redis.Redis | None = None,
    engine: Engine | None = None,
) -> tuple[str, bool]:
    """The incident for the case's thread (or `key`), opened and paged when new."""
    connection, engine = connection or redis_connection(), engine or get_engine()
    now = utcnow()
    with Session(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise LookupError(f"no case {case_id}")
        key = key or thread_keys(session, [case])[case_id]
        with connection.pipeline(transaction=False) as pipe:
            _open_or_join(pipe, key, case_id, now, summary, severity, rotation)
            created = bool(pipe.execute()[0])
        _record_signal(session, key, case_id, now, reason, created=created)
        session.commit()
    if created:
        _page_first([key], connection)
    return key, created


def _open_or_join(
    pipe: Pipeline,
    key: str,
    case_id: int,
    now: datetime,
    summary: str,
    severity: Severity,
    rotation: str | None,
) -> None:
    """Queue the script that opens the incident (answers 1) or joins it (0), atomically: a burst
    on one thread opens it once; and remember the case's incident."""
    h = PREFIX + key
    args = (case_id, now.isoformat(), summary, severity.value, rotation or "")
    pipe.eval(_OPEN_OR_JOIN, 3, h, h + ":cases", h + ":paged", *args)
    pipe.set(CASE_PREFIX + str(case_id), key)


def _record_signal(
    session: Session, key: str, case_id: int, now: datetime, reason: str, *, created: bool
) -> None:
    action = "incident.opened" if created else "incident.joined"
    audit.record(session, action=action, actor=ACTOR, case_id=case_id, at=now, incident=key, reason=reason)


def _page_first(keys: list[str], connection: redis.Redis) -> None:
    """Page the first person of each newly opened incident: one round trip for the lot."""
    if not keys:
        return
    pages = [
        Queue.prepare_data(
            page_next, (key, 1), job_id=page_job_id(key, 1), result_ttl=3600, failure_ttl=7 * 24 * 3600
        )
        for key in keys
    ]
    queue(PAGING, connection).enqueue_many(pages)


def page_job_id(key: str, number: int) -> str:
    return f"page-{hashlib.sha256(key.encode()).hexdigest()[:24]}-{number}"


def get(key: str, connection: redis.Redis | None = None) -> Incident | None:
    connection = connection or redis_connection()
    h = PREFIX + key
    raw = {_text(k): _text(v) for k, v in connection.hgetall(h).items()}
    if not raw:
        return None
    return Incident(
        key=key,
        status=raw["status"],
        summary=raw["summary"],
        severity=Severity(raw["severity"]),
        rotation=raw.get("rotation") or None,
        case_id=int(raw["case"]),
        case_ids=frozenset(int(c) for c in connection.smembers(h + ":cases")),
        paged=tuple(_text(p) for p in connection.lrange(h + ":paged", 0, -1)),
        signals=int(raw.get("signals", 0)),
        opened_at=datetime.fromisoformat(raw["opened_at"]),
        acknowledged_by=raw.get("acknowledged_by"),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def incident_of_case(case_id: int, connection: redis.Redis | None = None) -> str | None:
    value = (connection or redis_connection()).get(CASE_PREFIX + str(case_id))
    return value.decode() if isinstance(value, bytes) else None


def page_next(key: str, number: int) -> str:
    """RQ job: page the `number`-th person of the incident, then schedule the next re-page."""
    from workers.paging import deliver
    from workers.timers import sla_config

    connection, config, now = redis_connection(), sla_config(), utcnow()
    incident = get(key, connection)
    if incident is None or incident.status != "triggered":
        return "no longer triggered"
    if len(incident.paged) >= number:
        return "already paged"
    rotation = config.rotation(incident.rotation)
    if number > config.paging.max_pages or rotation is None:
        _record(incident, "incident.unanswered", now, pages=len(incident.paged))
        return "gave up" if rotation is not None else "no rotation"
    when = rotation.deliver_at(now, incident.severity)
    if when > now:  # quiet hours: the same page, later
        queue(PAGING, connection).enqueue_at(when, page_next, key, number, job_id=page_job_id(key, number))
        _record(incident, "page.held", now, until=when.isoformat(), severity=incident.severity.value)
        return "held"
    order = rotation.escalation_order(now)
    person = rotation.next_responder(now, incident.paged) or order[len(incident.paged) % len(order)]
    connection.rpush(PREFIX + key + ":paged", person)
    connection.hincrby(PREFIX + key, "pages", 1)
    transports = deliver.send_to_all(incident, PageAction.TRIGGER, to=person, number=number, at=now)
    _record(incident, "page.sent", now, to=person, number=number, transports=transports)
    repage_at = now + timedelta(minutes=config.paging.repage_after)
    queue(PAGING, connection).enqueue_at(
        repage_at, page_next, key, number + 1, job_id=page_job_id(key, number + 1), result_ttl=3600
    )
    return f"paged {person}"


def acknowledge(key: str, *, by: str, via: str = "api", connection: redis.Redis | None = None) -> bool:
    """Stop re-paging. From the UI, the API or a pager's own acknowledgement; False if not open."""
    return _move(
        key, "triggered", "acknowledged", PageAction.ACKNOWLEDGE, by=by, via=via, connection=connection
    )


def resolve(key: str, *, by: str, via: str = "api", connection: redis.Redis | None = None) -> bool:
    return _move(key, "*", "resolved", PageAction.RESOLVE, by=by, via=via, connection=connection)


def _move(
    key: str, src: str, dst: str, action: PageAction, *, by: str, via: str, connection: redis.Redis | None
) -> bool:
    from workers.paging import deliver

    connection, now = connection or redis_connection(), utcnow()
    h = PREFIX + key
    if not connection.eval(_MOVE, 1, h, src, dst, by, now.isoformat()):
        return False
    incident = get(key, connection)
    assert incident is not None
    _cancel_repage(key, len(incident.paged) + 1, connection)
    if dst == "resolved":
        for name in (h, h + ":cases", h + ":paged"):
            connection.expire(name, RESOLVED_TTL)
    transports = deliver.send_to_all(incident, action, to=by, number=0, at=now) if incident.paged else []
    for case_id in sorted(incident.case_ids):
        _record(incident, f"incident.{dst}", now, case_id=case_id, by=by, via=via, transports=transports)
    return True


def _cancel_repage(key: str, number: int, connection: redis.Redis) -> None:
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(page_job_id(key, number), connection=connection).delete(remove_from_queue=True)


def _record(
    incident: Incident, action: str, at: datetime, *, case_id: int | None = None, **details: Any
) -> None:
    with Session(get_engine()) as session:
        audit.record(
            session,
            action=action,
            actor=ACTOR,
            case_id=case_id or incident.case_id,
            at=at,
            incident=incident.key,
            **details,
        )
        session.commit()
