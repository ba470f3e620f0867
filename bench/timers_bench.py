"""100,000 concurrent SLA timers: how late escalation jobs run against their due moment, and how much
Redis memory the timers take.

Builds a scratch PostgreSQL database (DATABASE_URL names the server, default
postgresql://postgres@127.0.0.1:5432/postgres) and uses a Redis server (REDIS_URL, default
redis://127.0.0.1:6379/12, flushed). Loads N open PR cases on the 24x7 `urgent` policy whose
breach moments are spread over the next hours, with a sample that falls due in the first minute;
schedules every case's timers with the real `workers.timers.schedule`; runs the real
`engage worker` processes (with the RQ scheduler); and measures, for each stage that fired, the
time between its moment and its `sla.escalated` audit event.

    python bench/timers_bench.py [--cases 100000] [--soon 300] [--workers 2]

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


def admin_url(url: str, database: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{database}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--soon", type=int, default=300, help="cases whose breach falls in the first minute")
    parser.add_argument("--workers", type=int, default=2)
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
    try:
        from router import db

        db.upgrade()
        conn_redis = redis.Redis.from_url(redis_url)
        conn_redis.flushdb()
        base_memory = int(conn_redis.info("memory")["used_memory"])
        start = datetime.now(UTC) + timedelta(seconds=20)  # time to schedule before the first due
        _load(dsn, args.cases, args.soon, start)

        from sqlmodel import Session, select

        from router.models import Case
        from workers.connection import redis_connection
        from workers.timers import schedule, sla_config

        config, connection = sla_config(), redis_connection()
        started = time.perf_counter()
        scheduled = 0
        worker_log = (ROOT / "var" / "bench-worker.log").open("ab")  # closed when the process exits
        with Session(db.get_engine()) as session:
            for case in session.exec(select(Case)).yield_per(2000):
                scheduled += len(schedule(case, config, connection=connection))
        schedule_s = time.perf_counter() - started
        memory = int(conn_redis.info("memory")["used_memory"]) - base_memory
        print(
            f"{scheduled:,} timers for {args.cases:,} cases scheduled in {schedule_s:.1f} s; "
            f"Redis +{memory / 2**20:.1f} MiB ({memory / max(scheduled, 1):.0f} bytes per timer)",
            flush=True,
        )

        engage = [sys.executable, "-m", "router.cli"]
        workers = [
            subprocess.Popen(
                [*engage, "worker"],
                env=os.environ.copy(),
                stderr=worker_log,
            )
            for _ in range(args.workers)
        ]
        deadline = start + timedelta(seconds=90)
        while datetime.now(UTC) < deadline:
            time.sleep(2)
        lateness = _lateness(dsn, config, since=start, until=start + timedelta(seconds=70))
        _where_the_time_went(connection, args.soon)
        fired = len(lateness)
        ordered = sorted(lateness)
        p50 = statistics.median(ordered) if ordered else float("nan")
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")
        print(
            f"{fired} stages fired in the window: lateness p50 {p50:.2f} s, p99 {p99:.2f} s, "
            f"max {max(ordered, default=float('nan')):.2f} s"
        )
        print(
            json.dumps(
                {
                    "cases": args.cases,
                    "timers": scheduled,
                    "schedule_s": round(schedule_s, 1),
                    "redis_mib": round(memory / 2**20, 1),
                    "bytes_per_timer": round(memory / max(scheduled, 1)),
                    "fired": fired,
                    "p50_lateness_s": round(p50, 3),
                    "p99_lateness_s": round(p99, 3),
                }
            )
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        from router import db as _db

        _db.get_engine().dispose()
        with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _load(dsn: str, count: int, soon: int, start: datetime) -> None:
    """PR cases on the 15-minute 24x7 policy: `soon` of them breach within a minute of `start`,
    the rest over the next ten hours."""
    rng = random.Random(5)
    now = datetime.now(UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY cases ({CASE_COLUMNS}) FROM STDIN") as copy:
            for i in range(1, count + 1):
                offset = rng.uniform(0, 60) if i <= soon else rng.uniform(600, 36_000)
                arrived = start + timedelta(seconds=offset) - timedelta(minutes=15)
                copy.write_row(
                    (
                        i,
                        "x",
                        "acme",
                        f"user{i}",
                        "pr",
                        2,
                        "new",
                        "urgent",
                        "bench",
                        "[]",
                        0.0,
                        False,
                        False,
                        arrived,
                        arrived,
                        "[]",
                        now,
                        now,
                    )
                )
        conn.execute(f"SELECT setval(pg_get_serial_sequence('cases', 'id'), {count})")
        conn.execute("ANALYZE cases")


def _lateness(dsn: str, config: object, *, since: datetime, until: datetime) -> list[float]:
    """Seconds between each stage's moment and its `sla.escalated` event, for the stages whose
    moment fell inside the window (stages already overdue when scheduled are left out)."""
    from sqlmodel import Session, select

    from router import db
    from router.models import AuditEvent, Case
    from router.sla.ladder import timers_for

    late = []
    with Session(db.get_engine()) as session:
        for event in session.exec(select(AuditEvent).where(AuditEvent.action == "sla.escalated")).all():
            case = session.get(Case, event.case_id)
            found = (
                [t for t in timers_for(case, config) if t.key == event.details.get("timer")] if case else []
            )  # type: ignore[arg-type]
            if found and since <= found[0].fire_at <= until:
                late.append((event.at - found[0].fire_at).total_seconds())
    return late


def _where_the_time_went(connection: redis.Redis, soon: int) -> None:
    """For the breach jobs of the first cases: scheduler delay vs queue wait vs run time."""
    from rq.job import Job

    rows = []
    for case_id in range(1, soon + 1):
        for key in ("first-breach", "first-0"):
            try:
                job = Job.fetch(f"sla-{case_id}-{key}", connection=connection)
            except Exception:
                continue
            if job.enqueued_at and job.started_at and job.ended_at:
                rows.append(
                    (
                        (job.started_at - job.enqueued_at).total_seconds(),
                        (job.ended_at - job.started_at).total_seconds(),
                    )
                )
    if rows:
        waits, runs = zip(*rows, strict=True)
        wait, run = statistics.median(waits), statistics.median(runs)
        print(f"breach jobs: queue wait p50 {wait:.2f} s, run p50 {run:.3f} s")


if __name__ == "__main__":
    main()
