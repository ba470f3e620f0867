"""100,000 concurrent SLA timers: how late escalation jobs run against their due moment, and how much
Redis memory the timers take, against what RQ itself achieves for a no-op job on the same workers.

Builds a scratch PostgreSQL database (DATABASE_URL names the server, default
postgresql://postgres@127.0.0.1:5432/postgres) and uses a Redis server (REDIS_URL, default
redis://127.0.0.1:6379/12, flushed). Loads open PR cases on the 24x7 `urgent` policy (three
stages each: warn, breach, manager) whose moments are spread over the next ten hours and
schedules their timers with the real `workers.timers.schedule_many` (timers/s, bytes per timer);
adds `--soon` cases whose breach falls in a one-minute window; starts the real `engage worker`
processes (in-process jobs, RQ scheduler, the ticker that moves due timers). Then, in the same run:

1. baseline: `--soon` no-op jobs (`time.time`) scheduled with `enqueue_at` on the default queue
   (moved by RQ's own scheduler only) over 30 s; lateness = when the job ran minus its moment
   (RQ's scheduler counts whole seconds, so a no-op may run early: negative lateness);
2. timers: the breach stages of the soon cases; lateness = their `sla.escalated` audit event
   minus their moment (a timer job never acts early).

    python bench/timers_bench.py [--cases 33334] [--soon 300] [--workers 2] [--profile DIR]

Prints the figures and ends with one JSON line. Target: p99 lateness <= 2 s at 100,000 timers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
CASE_COLUMNS = (
    "id, channel, account, author_handle, queue, priority, status, sla_policy, ruleset_version, tags, risk, "
    "page_pr, needs_approval, first_inbound_at, last_inbound_at, sla_pauses, created_at, updated_at"
)
WINDOW = 60.0  # seconds over which the soon cases breach
BASELINE_WINDOW = 30.0
LEAD = 75.0  # seconds from the end of scheduling to the timer window: worker start, drain, baseline


def admin_url(url: str, database: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{database}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=33_334, help="three timers each")
    parser.add_argument("--soon", type=int, default=300, help="cases whose breach falls in the window")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the workers into DIR")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    scratch = f"engage_timers_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    dsn = admin_url(server, scratch)
    os.environ.update({"DATABASE_URL": dsn, "REDIS_URL": redis_url, "VAR_DIR": str(ROOT / "var" / "bench")})
    sys.path.insert(0, str(ROOT))
    workers: list[subprocess.Popen[bytes]] = []
    profilers: list[subprocess.Popen[bytes]] = []
    load_before = os.getloadavg()
    try:
        from router import db

        db.upgrade()
        conn_redis = redis.Redis.from_url(redis_url)
        conn_redis.flushdb()
        base_memory = int(conn_redis.info("memory")["used_memory"])

        from workers.connection import redis_connection
        from workers.queues import DEFAULT, queue
        from workers.timers import sla_config

        config, connection = sla_config(), redis_connection()
        bulk = range(args.soon + 1, args.cases + 1)
        _load(dsn, bulk, lambda rng: rng.uniform(600, 36_000), datetime.now(UTC))
        bulk_timers, schedule_s = _schedule(dsn, bulk)
        memory_used = int(conn_redis.info("memory")["used_memory"]) - base_memory
        key_bytes = _key_bytes(conn_redis)
        print(
            f"{bulk_timers:,} timers for {len(bulk):,} cases scheduled in {schedule_s:.1f} s "
            f"({bulk_timers / schedule_s:,.0f} timers/s); Redis +{memory_used / 2**20:.1f} MiB used_memory, "
            f"{key_bytes / 2**20:.1f} MiB in our keys ({key_bytes / bulk_timers:.0f} bytes per timer)",
            flush=True,
        )

        start = datetime.now(UTC) + timedelta(seconds=LEAD)  # the timer window opens
        soon = range(1, args.soon + 1)
        _load(dsn, soon, lambda rng: rng.uniform(0, WINDOW), start)
        soon_timers, _ = _schedule(dsn, soon)  # their warn stages are overdue: fired as the workers start
        print(f"{bulk_timers + soon_timers:,} timers in all", flush=True)

        (ROOT / "var").mkdir(exist_ok=True)
        worker_log = (ROOT / "var" / "bench-worker.log").open("ab")  # closed when the process exits
        engage = [sys.executable, "-m", "router.cli"]
        workers = [
            subprocess.Popen([*engage, "worker"], env=os.environ.copy(), stderr=worker_log)
            for _ in range(args.workers)
        ]
        print("workers:", " ".join(str(w.pid) for w in workers), flush=True)
        drained = _drain(dsn, args.soon, since=time.time())
        baseline_start = datetime.now(UTC) + timedelta(seconds=2)
        if baseline_start + timedelta(seconds=BASELINE_WINDOW) > start:
            print("warning: the baseline window overlaps the timer window (slow drain)", flush=True)
        noop_ids = _schedule_noops(queue(DEFAULT, connection), args.soon, baseline_start)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            seconds = int((start - datetime.now(UTC)).total_seconds() + WINDOW + 10)
            profilers = [
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(w.pid),
                        "--duration",
                        str(seconds),
                        "--rate",
                        "200",
                        "--nonblocking",
                        "-o",
                        str(args.profile / f"worker-{i}.svg"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for i, w in enumerate(workers)
            ]
        print(f"workers up and overdue warn stages fired in {drained:.1f} s", flush=True)
        deadline = start + timedelta(seconds=WINDOW + 20)
        while datetime.now(UTC) < deadline:
            time.sleep(1)
        load_after = os.getloadavg()
        baseline = _noop_lateness(connection, noop_ids)
        lateness = _lateness(dsn, config, since=start, until=start + timedelta(seconds=WINDOW))
        print("baseline no-op jobs:")
        _where_the_time_went(connection, baseline)
        print("timer stages:")
        _where_the_time_went(connection, lateness)
        b50, b99, bmax = _percentiles([late for _, late in baseline.values()])
        p50, p99, pmax = _percentiles([late for _, late in lateness.values()])
        print(
            f"baseline no-op enqueue_at jobs: {len(baseline)} ran, lateness p50 {b50:.2f} s, "
            f"p99 {b99:.2f} s, max {bmax:.2f} s"
        )
        print(
            f"{len(lateness)} timer stages fired in the window: lateness p50 {p50:.2f} s, p99 {p99:.2f} s, "
            f"max {pmax:.2f} s (target p99 <= 2 s)"
        )
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
        print(
            json.dumps(
                {
                    "cases": args.cases,
                    "timers": bulk_timers + soon_timers,
                    "schedule_s": round(schedule_s, 1),
                    "timers_per_s": round(bulk_timers / schedule_s),
                    "redis_mib": round(key_bytes / 2**20, 1),
                    "bytes_per_timer": round(key_bytes / max(bulk_timers, 1)),
                    "used_memory_bytes_per_timer": round(memory_used / max(bulk_timers, 1)),
                    "fired": len(lateness),
                    "p50_lateness_s": round(p50, 3),
                    "p99_lateness_s": round(p99, 3),
                    "max_lateness_s": round(pmax, 3),
                    "noop_p50_lateness_s": round(b50, 3),
                    "noop_p99_lateness_s": round(b99, 3),
                    "noop_max_lateness_s": round(bmax, 3),
                    "loadavg": [round(load_before[0], 2), round(load_after[0], 2)],
                }
            )
        )
    finally:
        for proc in [*profilers, *workers]:
            proc.terminate()
        for proc in [*profilers, *workers]:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.Redis.from_url(redis_url).flushdb()  # hundreds of MiB of timers in a shared server
        from router import db as _db

        _db.get_engine().dispose()
        with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _load(dsn: str, ids: range, offset: object, start: datetime) -> None:
    """PR cases on the 15-minute 24x7 policy, each breaching `offset(rng)` seconds after `start`."""
    rng = random.Random(ids.start)
    now = datetime.now(UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY cases ({CASE_COLUMNS}) FROM STDIN") as copy:
            for i in ids:
                arrived = start + timedelta(seconds=offset(rng)) - timedelta(minutes=15)  # type: ignore[operator]
                copy.write_row(
                    (i, "x", "acme", f"user{i}", "pr", 2, "new", "urgent", "bench", "[]", 0.0, False, False,
                     arrived, arrived, "[]", now, now)
                )  # fmt: skip
        conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.execute("ANALYZE cases")


def _schedule(dsn: str, ids: range) -> tuple[int, float]:
    """Schedule the timers of these cases as the sweep does: read in chunks, one batch per chunk."""
    from sqlmodel import Session, col, select

    from router import db
    from router.models import Case
    from workers.connection import redis_connection
    from workers.timers import SYNC_CHUNK, schedule_many, sla_config

    config, connection = sla_config(), redis_connection()
    started = time.perf_counter()
    scheduled = 0
    with Session(db.get_engine()) as session:
        query = select(Case).where(col(Case.id).between(ids.start, ids.stop - 1)).order_by(col(Case.id))
        chunk: list[Case] = []
        for case in session.exec(query).yield_per(SYNC_CHUNK):
            chunk.append(case)
            if len(chunk) == SYNC_CHUNK:
                scheduled += len(schedule_many(chunk, config, connection=connection))
                chunk = []
        scheduled += len(schedule_many(chunk, config, connection=connection))
    return scheduled, time.perf_counter() - started


def _key_bytes(connection: redis.Redis) -> int:
    """MEMORY USAGE summed over every key of this db (used_memory counts the whole server)."""
    total, pipe, pending = 0, connection.pipeline(transaction=False), 0
    for key in connection.scan_iter(count=5000):
        pipe.memory_usage(key, samples=0)
        pending += 1
        if pending == 5000:
            total += sum(n or 0 for n in pipe.execute())
            pending = 0
    return total + sum(n or 0 for n in pipe.execute())


def _drain(dsn: str, count: int, *, since: float, timeout: float = 120) -> float:
    """Wait until the overdue warn stages of the soon cases have fired (the workers are up)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.time() - since < timeout:
            row = conn.execute("SELECT count(*) FROM audit_events WHERE action = 'sla.escalated'").fetchone()
            if row is not None and row[0] >= count:
                break
            time.sleep(0.2)
    return time.time() - since


def _schedule_noops(q: object, count: int, start: datetime) -> dict[str, datetime]:
    rng = random.Random(7)
    moments = {f"noop-{i}": start + timedelta(seconds=rng.uniform(0, BASELINE_WINDOW)) for i in range(count)}
    pipe = q.connection.pipeline()  # type: ignore[attr-defined]
    for job_id, at in moments.items():
        q.enqueue_at(at, time.time, job_id=job_id, result_ttl=3600, pipeline=pipe)  # type: ignore[attr-defined]
    pipe.execute()
    return moments


def _noop_lateness(
    connection: redis.Redis, moments: dict[str, datetime]
) -> dict[str, tuple[datetime, float]]:
    """Job id -> (moment, seconds from the moment to when it ran: the no-op returns that)."""
    from rq.job import Job

    late = {}
    for job_id, job in zip(moments, Job.fetch_many(list(moments), connection=connection), strict=True):
        ran = job.return_value() if job is not None else None
        if ran is not None:
            late[job_id] = (moments[job_id], float(ran) - moments[job_id].timestamp())
    return late


def _lateness(
    dsn: str, config: object, *, since: datetime, until: datetime
) -> dict[str, tuple[datetime, float]]:
    """Job id -> (moment, seconds between the moment and its `sla.escalated` event), for the
    stages whose moment fell inside the window."""
    from sqlmodel import Session, select

    from router import db
    from router.models import AuditEvent, Case
    from router.sla.ladder import timers_for

    late = {}
    with Session(db.get_engine()) as session:
        for event in session.exec(select(AuditEvent).where(AuditEvent.action == "sla.escalated")).all():
            case = session.get(Case, event.case_id)
            found = (
                [t for t in timers_for(case, config) if t.key == event.details.get("timer")] if case else []
            )  # type: ignore[arg-type]
            if found and since <= found[0].fire_at <= until:
                late[found[0].job_id] = (found[0].fire_at, (event.at - found[0].fire_at).total_seconds())
    return late


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], ordered[-1]


def _where_the_time_went(connection: redis.Redis, late: dict[str, tuple[datetime, float]]) -> None:
    """For the stages in the window: moved onto the queue (after the moment), waited in the queue,
    ran; and the latest few."""
    from rq.job import Job

    rows = []
    for job in Job.fetch_many(list(late), connection=connection):
        if job is not None and job.enqueued_at and job.started_at and job.ended_at:
            moment, lateness = late[job.id]
            moved = (job.enqueued_at - moment).total_seconds()
            wait = (job.started_at - job.enqueued_at).total_seconds()
            rows.append((lateness, moved, wait, (job.ended_at - job.started_at).total_seconds(), job.id))
    if not rows:
        return
    for name, column in (("moved", 1), ("queue wait", 2), ("run", 3)):
        values = sorted(r[column] for r in rows)
        print(f"  {name}: p50 {statistics.median(values):.3f} s, max {values[-1]:.3f} s")
    for lateness, moved, wait, run, job_id in sorted(rows, reverse=True)[:5]:
        print(f"  latest: {job_id} {lateness:.2f} s = moved {moved:.2f} + wait {wait:.2f} + run {run:.2f}")


if __name__ == "__main__":
    main()
