"""SLA timers on RQ: one scheduled job per escalation stage of every running response clock.

The database is the source of truth: a timer is (case, clock, stage) computed from the case's
timeline (router/sla/ladder.py) and scheduled as an RQ job under the deterministic id
`sla-{case_id}-{clock}-{stage}` (RQ 2 allows no colons in ids), so re-scheduling replaces and a
reply cancels by id. Its score in the SLA queue's scheduled registry is the exact moment, and
every worker's ticker moves due timers onto the queue five times a second (`enqueue_due`): RQ's
own scheduler counts whole seconds. A firing job reloads the case, recomputes, and returns early
when the world moved on (answered, resolved, re-timed); a stage that already fired for this due
time (its `sla.escalated` audit event exists) does nothing, so a timer that fires twice acts once.

The sweep re-creates lost timers. While Redis keeps its data a marker key stays set and the sweep
only checks the cases whose next due time is near; when the marker is gone (Redis restarted empty,
or flushed) it re-schedules every open case with a due time.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import cast

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import as_text
from sqlalchemy import Engine, tuple_
from sqlmodel import Session, col, select

from router.db import get_engine
from router.models import OPEN_STATUSES, AuditEvent, Case
from router.settings import get_settings
from router.sla.ladder import Timer, all_timer_keys, job_id, timers_for
from router.sla.policy import SlaConfig, load_sla_config
from router.timeutil import utcnow
from workers.connection import redis_connection
from workers.queues import PAGING, SLA, queue

log = logging.getLogger(__name__)

ESCALATED = "sla.escalated"
MARKER = "engage:sla:timers"  # present while Redis still holds the timers we scheduled
NEAR = timedelta(hours=1)  # the sweep re-checks cases due within this, every run
RESCUE_GRACE = timedelta(seconds=2)  # a live scheduler moves due jobs every second
SYNC_CHUNK = 500
JOB_TTL = 7 * 24 * 3600


def sla_config() -> SlaConfig:
    """The SLA file the settings name, reloaded when it changes on disk."""
    path = Path(get_settings().sla_config_path)
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _load(path: str, _mtime: int) -> SlaConfig:
    return load_sla_config(path)


def cases_changed(case_ids: Iterable[int], *, connection: redis.Redis | None = None) -> None:
    """Call after a commit that changed cases (ingest, reply, handoff, resolve): their timers and
    incidents are brought up to date by a job, off the request path. Redis down is logged only;
    the sweep catches up."""
    ids = sorted(set(case_ids))
    try:
        q = queue(SLA, connection)
        for start in range(0, len(ids), SYNC_CHUNK):
            q.enqueue(sync_cases, ids[start : start + SYNC_CHUNK], result_ttl=0, failure_ttl=JOB_TTL)
    except redis.RedisError as exc:
        log.warning(
            "could not enqueue a timer sync for %d cases (%s); the sweep will catch up", len(ids), exc
        )


def sync_cases(case_ids: Sequence[int]) -> int:
    """RQ job: schedule (or cancel) the timers of these cases and raise incidents they call for."""
    from workers.paging import incidents  # paging imports timers' config loader

    config, connection, engine = sla_config(), redis_connection(), get_engine()
    with Session(engine, expire_on_commit=False) as session:
        cases = session.exec(select(Case).where(col(Case.id).in_(list(case_ids)))).all()
        fired = _fired(session, [c.id for c in cases if c.id is not None])
    scheduled = len(schedule_many(cases, config, connection=connection, fired=fired))
    incidents.consider_many(cases, config, connection=connection, engine=engine)
    found = {c.id for c in cases}
    for missing in set(case_ids) - found:  # deleted (erased) cases keep no timers
        cancel(missing, config, connection=connection)
    return scheduled


def schedule(
    case: Case,
    config: SlaConfig,
    *,
    connection: redis.Redis,
    fired: set[tuple[int, str, str]] | None = None,
) -> list[Timer]:
    """Schedule every timer the case has now that has not fired; cancel the rest by id."""
    return schedule_many([case], config, connection=connection, fired=fired)


def schedule_many(
    cases: Sequence[Case],
    config: SlaConfig,
    *,
    connection: redis.Redis,
    fired: set[tuple[int, str, str]] | None = None,
) -> list[Timer]:
    """`schedule` for many cases in two round trips: one to find stale jobs, one to write."""
    fired = fired or set()
    keys = all_timer_keys(config)
    timers: list[Timer] = []
    stale: list[str] = []
    for case in cases:
        assert case.id is not None
        owed = [t for t in timers_for(case, config) if (case.id, t.key, t.due_at.isoformat()) not in fired]
        wanted = {t.key for t in owed}
        stale.extend(job_id(case.id, key) for key in sorted(keys - wanted))
        timers.extend(owed)
    _delete(stale, connection)
    q = queue(SLA, connection)
    pipe = connection.pipeline()
    if timers:
        # What RQ's enqueue_at writes (the job hash, the scheduled registry, the queue set), with
        # one ZADD for the batch and the exact moment as the score: RQ scores whole seconds, and
        # its scheduler would deliver up to a second early; `enqueue_due` moves the job when due.
        pipe.sadd(q.redis_queues_keys, q.key)
        for timer in timers:
            # Two small arguments keep every field under Redis's 64-byte listpack limit: a third
            # of the memory. The due time is recomputed when the job runs.
            job = q.create_job(
                fire,
                args=(timer.case_id, timer.key),
                job_id=timer.job_id,
                result_ttl=600,
                failure_ttl=JOB_TTL,
                status=JobStatus.SCHEDULED,
            )
            pipe.hset(job.key, mapping=job.to_dict())
        pipe.zadd(q.scheduled_job_registry.key, {t.job_id: t.fire_at.timestamp() for t in timers})
    pipe.set(MARKER, "1")
    pipe.execute()
    return timers


def cancel(case_id: int, config: SlaConfig, *, connection: redis.Redis) -> None:
    _delete([job_id(case_id, key) for key in all_timer_keys(config)], connection)


def _delete(ids: list[str], connection: redis.Redis) -> None:
    """Delete these jobs unless they are running or done; one round trip when none exist."""
    if not ids:
        return
    statuses = connection.register_script(_STATUSES)(keys=[Job.key_for(id_) for id_ in ids])
    present = [id_ for id_, status in zip(ids, statuses, strict=True) if status is not None]
    for job in Job.fetch_many(present, connection=connection):
        if job is not None and job.get_status(refresh=False) not in ("started", "finished"):
            with contextlib.suppress(NoSuchJobError):  # ran and expired in between
                job.delete(remove_from_queue=True)


_STATUSES = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGET', key, 'status') end
return out
"""  # the status of many job hashes in one command (a missing hash gives nil)


def _fired(session: Session, case_ids: list[int]) -> set[tuple[int, str, str]]:
    """(case, timer key, due time) of every stage that already fired for these cases."""
    if not case_ids:
        return set()
    rows = session.exec(
        select(AuditEvent.case_id, AuditEvent.details).where(
            col(AuditEvent.case_id).in_(case_ids), col(AuditEvent.action) == ESCALATED
        )
    ).all()
    return {(cid, d.get("timer", ""), d.get("due_at", "")) for cid, d in rows if cid is not None}


def fire(case_id: int, key: str, due_at: str | None = None) -> str:
    """RQ job: run one escalation stage if it is still owed. Returns what happened, for logs.
    `due_at` comes only with jobs scheduled before it was dropped from the arguments: a job for an
    older due time finds its stage re-timed (in the future: "early") or already fired."""
    from workers import escalation

    config, engine = sla_config(), get_engine()
    with Session(engine, expire_on_commit=False) as session, session.begin():
        case = session.exec(select(Case).where(col(Case.id) == case_id).with_for_update()).first()
        if case is None:
            return "gone"
        timer = next((t for t in timers_for(case, config) if t.key == key), None)
        if timer is None:
            return "not running"  # answered, resolved, or the stage left the ladder
        if due_at is not None and timer.due_at.isoformat() != due_at:
            return "re-timed"  # a newer job under the same id carries the new due time
        if (case_id, key, timer.due_at.isoformat()) in _fired(session, [case_id]):
            return "already fired"
        now = utcnow()
        if timer.fire_at > now + timedelta(seconds=1):
            schedule(case, config, connection=redis_connection())  # came early (a clock change)
            return "early"
        if timer.fire_at > now:  # RQ's scheduler counts whole seconds: wait out the rest, never act early
            time.sleep((timer.fire_at - now).total_seconds())
            now = utcnow()

        after_commit = escalation.run_stage(session, case, timer, config, now=now)
    for effect in after_commit:
        effect()
    return "fired"


def sweep_timers(*, engine: Engine | None = None, connection: redis.Redis | None = None) -> int:
    """Re-create lost timers. Returns how many cases had timers re-scheduled."""
    engine, connection = engine or get_engine(), connection or redis_connection()
    config = sla_config()
    full = not connection.exists(MARKER)
    open_statuses = [s.value for s in OPEN_STATUSES]
    query = select(Case).where(col(Case.status).in_(open_statuses), col(Case.next_due_at).is_not(None))
    if not full:
        query = query.where(col(Case.next_due_at) <= utcnow() + NEAR)
    repaired, after = 0, None
    while True:  # most urgent first, a chunk at a time: a full pass may cover a million open cases
        page = query.order_by(col(Case.next_due_at), col(Case.id)).limit(SYNC_CHUNK)
        if after is not None:
            page = page.where(tuple_(col(Case.next_due_at), col(Case.id)) > after)
        with Session(engine, expire_on_commit=False) as session:
            chunk = session.exec(page).all()
            fired = _fired(session, [c.id for c in chunk if c.id is not None])
        if not chunk:
            break
        owed = [
            (
                case,
                [
                    t.job_id
                    for t in timers_for(case, config)
                    if (case.id, t.key, t.due_at.isoformat()) not in fired
                ],
            )
            for case in chunk
        ]
        alive = set() if full else _alive([i for _, ids in owed for i in ids], connection)
        lost = [case for case, ids in owed if ids and not alive.issuperset(ids)]
        schedule_many(lost, config, connection=connection, fired=fired)
        repaired += len(lost)
        after = (chunk[-1].next_due_at, chunk[-1].id)
    if repaired:
        log.info("sweep: re-scheduled the timers of %d cases (%s pass)", repaired, "full" if full else "near")
    connection.set(MARKER, "1")
    return repaired


def _alive(ids: list[str], connection: redis.Redis) -> set[str]:
    """The jobs that will still run: waiting in a queue, running, or scheduled and in the
    scheduled registry (a mover that died between taking a job out and queueing it leaves it
    "scheduled" in no registry). One command for them all."""
    if not ids:
        return set()
    scheduled_key = queue(SLA, connection).scheduled_job_registry.key
    keys = [scheduled_key, *(Job.key_for(id_) for id_ in ids)]
    flags = connection.register_script(_ALIVE)(keys=keys, args=ids)
    return {id_ for id_, flag in zip(ids, flags, strict=True) if flag}


_ALIVE = """
local out = {}
for i = 2, #KEYS do
  local status = redis.call('HGET', KEYS[i], 'status')
  local alive = status == 'queued' or status == 'started' or status == 'deferred'
    or (status == 'scheduled' and redis.call('ZSCORE', KEYS[1], ARGV[i - 1]) ~= false)
  out[i - 1] = alive and 1 or 0
end
return out
"""


def enqueue_due(*, connection: redis.Redis | None = None, limit: int = 1000) -> int:
    """Move the SLA timer jobs whose exact moment has passed onto the SLA queue. Every worker
    calls this several times a second: RQ's own scheduler counts whole seconds and would run a
    stage up to a second early, or late by its one-second tick."""
    connection = connection or redis_connection()
    q = queue(SLA, connection)
    due = cast(
        "list[bytes]",
        connection.zrangebyscore(q.scheduled_job_registry.key, 0, time.time(), start=0, num=limit),
    )
    return _move(q, [as_text(id_) for id_ in due], connection) if due else 0


def rescue_overdue(*, grace: timedelta = RESCUE_GRACE, connection: redis.Redis | None = None) -> int:
    """Enqueue scheduled SLA and paging jobs the RQ scheduler left overdue. After a worker is
    killed its scheduler lock outlives it (about a minute) and a new worker only retries the lock
    every ten minutes; meanwhile this, run by every worker's ticker, keeps paging within a few
    seconds of its time (SLA timers have `enqueue_due`)."""
    connection = connection or redis_connection()
    moved = 0
    cutoff = utcnow() - grace
    for name in (SLA, PAGING):
        q = queue(name, connection)
        moved += _move(q, q.scheduled_job_registry.get_jobs_to_schedule(int(cutoff.timestamp())), connection)
    if moved:
        log.warning("rescued %d overdue scheduled jobs (is a scheduler running?)", moved)
    return moved


def _move(q: Queue, ids: list[str], connection: redis.Redis) -> int:
    """Enqueue these scheduled jobs. ZREM decides who moves a job, so two movers never both do."""
    if not ids:
        return 0
    key = q.scheduled_job_registry.key
    pipe = connection.pipeline(transaction=False)
    for id_ in ids:
        pipe.zrem(key, id_)
    won = [id_ for id_, removed in zip(ids, pipe.execute(), strict=True) if removed]
    jobs = [job for job in Job.fetch_many(won, connection=connection) if job is not None]
    pipe = connection.pipeline()
    for job in jobs:
        q.enqueue_job(job, pipeline=pipe)
    pipe.execute()
    return len(jobs)


def next_fire_times(case_ids: Sequence[int], connection: redis.Redis | None = None) -> dict[str, datetime]:
    """Scheduled timer jobs of these cases and when they fire (for `engage sla timers` and tests)."""
    connection = connection or redis_connection()
    registry = queue(SLA, connection).scheduled_job_registry
    out = {}
    keys = sorted(all_timer_keys(sla_config()))
    for case_id in case_ids:
        for key in keys:
            try:
                out[job_id(case_id, key)] = registry.get_scheduled_time(job_id(case_id, key))
            except NoSuchJobError:
                continue
    return out


def missed_and_duplicates(
    engine: Engine, *, now: datetime | None = None, tolerance: timedelta = timedelta(seconds=30)
) -> dict[str, int]:
    """What the fault tests count (tests/faults/checks.py EFFECT_CHECKS): stages owed for longer
    than `tolerance` that never fired, and stages or pages that acted more than once."""
    config, now = sla_config(), now or utcnow()
    open_statuses = [s.value for s in OPEN_STATUSES]
    with Session(engine) as session:
        cases = session.exec(select(Case).where(col(Case.status).in_(open_statuses))).all()
        fired = _fired(session, [c.id for c in cases if c.id is not None])
        rows = session.exec(
            select(AuditEvent.action, AuditEvent.case_id, AuditEvent.details).where(
                col(AuditEvent.action).in_([ESCALATED, "page.sent"])
            )
        ).all()
    missed = sum(
        1
        for case in cases
        for t in timers_for(case, config)
        if t.fire_at <= now - tolerance and (case.id, t.key, t.due_at.isoformat()) not in fired
    )
    seen: dict[tuple[object, ...], int] = {}
    for action, case_id, details in rows:
        if action == ESCALATED:
            key: tuple[object, ...] = (action, case_id, details.get("timer"), details.get("due_at"))
        else:
            key = (action, details.get("incident"), details.get("number"))
        seen[key] = seen.get(key, 0) + 1
    return {"timers_missed": missed, "duplicate_pages": sum(n - 1 for n in seen.values() if n > 1)}
