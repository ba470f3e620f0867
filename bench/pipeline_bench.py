"""Whole-pipeline benchmark: the real `engage serve` and `engage worker` processes on PostgreSQL and a
Redis server, driven over HTTP on 127.0.0.1 through the signed generic ingest endpoint.

For each stepped rate it reports sustained posts/s, p50/p99 latency from the moment a post is sent
to the moment its case is visible in the database with its SLA timers scheduled in Redis (for
queues with an escalation ladder), plus CPU and peak RSS of each process. In the same run it
measures the physical baseline: COPY of the same rows (every row the pipeline writes for those
posts: post, case, decision, audit event) into the same database, as posts per second.

    python bench/pipeline_bench.py [--rates 250,500,1000,2000,0] [--seconds 8] [--batch 100]

A rate of 0 means "as fast as the client can send". Needs PostgreSQL and Redis servers:
DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) names the server, a scratch
database is created and dropped; REDIS_URL defaults to redis://127.0.0.1:6379/14 (flushed).
The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import psycopg
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.signed_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign  # noqa: E402
from router.sla.ladder import all_timer_keys, job_id  # noqa: E402
from router.sla.policy import load_sla_config  # noqa: E402
from workers.queues import SLA  # noqa: E402

SECRET = "bench-secret"
SOURCE = "bench"
TEXTS = [
    "my order #{n} never arrived and nobody answers",
    "how do I change the delivery address on order {n}?",
    "charged twice for my subscription again, refund please ({n})",
    "the app has been down all morning, outage? #{n}",
    "love the new oat bars, thank you!! {n}",
    "is the vegan range in Munich stores yet? {n}",
    "I'm talking to my lawyer about order {n}",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_url(url: str, database: str) -> str:
    base = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    return f"{base}/{database}"


def make_posts(start: int, count: int, rng: random.Random) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    posts = []
    for i in range(start, start + count):
        # One in five answers an earlier post, as threads do: minutes later, not within the same burst.
        reply_to = (
            f"b{rng.randrange(max(0, i - 50_000), i - 5_000)}" if i > 5_000 and rng.random() < 0.2 else None
        )

        posts.append(
            {
                "channel": SOURCE,
                "platform_id": f"b{i}",
                "account": "acme",
                "author": {"handle": f"user{rng.randrange(50_000)}", "followers": rng.choice([3, 120, 4000])},
                "text": rng.choice(TEXTS).format(n=i),
                "created_at": (now + timedelta(microseconds=i)).isoformat(),
                "in_reply_to": reply_to,
                # X gives every post its language (`lang`); one in ten here comes without, as from
                # channels that don't, and the rules detect it.
                **({"lang": "en"} if rng.random() < 0.9 else {}),
            }
        )
    return posts


@dataclass
class Step:
    rate: int
    sent: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)  # stored with its case and timers
    stored_at: dict[str, float] = field(default_factory=dict)  # stored with its case
    started: float = 0.0
    finished: float = 0.0
    errors: int = 0

    def latencies_ms(self, until: dict[str, float] | None = None) -> list[float]:
        until = self.seen_at if until is None else until
        return sorted((until[k] - self.sent_at[k]) * 1000 for k in until if k in self.sent_at)


class Watcher(threading.Thread):
    """Stamps when each post sent became visible: stored with its case and, when the case's queue
    has an escalation ladder, with at least one of the case's SLA timers in RQ's scheduled
    registry. Polls the posts not yet seen (transactions commit out of id order, so a high-water
    mark on ids would miss some)."""

    def __init__(self, dsn: str, redis_url: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.step, self.stop = dsn, None, threading.Event()
        self.redis = redis.Redis.from_url(redis_url)
        self.config = load_sla_config(ROOT / "rules" / "sla.yaml")
        self.scheduled = ScheduledJobRegistry(queue=Queue(SLA, connection=self.redis)).key
        self.keys = sorted(all_timer_keys(self.config))
        self.waiting: dict[str, int] = {}  # stored, timers not yet seen: platform id -> case id

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                step = self.step
                if step is not None:
                    self._poll(conn, step)
                time.sleep(0.005)

    def _poll(self, conn: psycopg.Connection[Any], step: Step) -> None:
        unseen = [k for k in list(step.sent_at) if k not in step.seen_at and k not in self.waiting][:5000]
        rows = conn.execute(
            "SELECT p.platform_id, c.id, c.queue FROM posts p JOIN cases c ON c.id = p.case_id "
            "WHERE p.channel = %s AND p.platform_id = ANY(%s)",
            (SOURCE, unseen),
        ).fetchall()
        now = time.perf_counter()
        for platform_id, case_id, queue_name in rows:
            step.stored_at[platform_id] = now
            if self.config.ladder(queue_name):
                self.waiting[platform_id] = case_id
            else:
                step.seen_at[platform_id] = now
        if not self.waiting:
            return
        pending = list(self.waiting.items())[:2000]
        with self.redis.pipeline(transaction=False) as pipe:
            for _, case_id in pending:
                for key in self.keys:
                    pipe.zscore(self.scheduled, job_id(case_id, key))
            scores = pipe.execute()
        now = time.perf_counter()
        per_case = len(self.keys)
        for i, (platform_id, _) in enumerate(pending):
            if any(s is not None for s in scores[i * per_case : (i + 1) * per_case]):
                step.seen_at[platform_id] = now
                del self.waiting[platform_id]


class Sampler(threading.Thread):
    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        super().__init__(daemon=True)
        self.processes, self.stop = processes, threading.Event()
        self.peak_rss = dict.fromkeys(processes, 0)

    def run(self) -> None:
        while not self.stop.is_set():
            for name, proc in self.processes.items():
                try:
                    rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children())
                    self.peak_rss[name] = max(self.peak_rss[name], rss)
                except psutil.Error:
                    pass
            time.sleep(0.1)


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


async def drive(url: str, step: Step, seconds: float, batch: int, start: int, rng: random.Random) -> int:
    """Send batches at the step's rate (0 = flat out) for `seconds`; returns the next post number."""
    step.started = time.perf_counter()
    interval = batch / step.rate if step.rate else 0.0
    n = start
    async with aiohttp.ClientSession() as http:
        in_flight: set[asyncio.Task[None]] = set()

        async def send(posts: list[dict[str, object]]) -> None:
            raw = json.dumps({"posts": posts}).encode()
            ts = str(int(time.time()))
            headers = {
                SIGNATURE_HEADER: sign(SECRET, ts, raw),
                TIMESTAMP_HEADER: ts,
                "Content-Type": "application/json",
            }
            sent = time.perf_counter()
            for p in posts:
                step.sent_at[str(p["platform_id"])] = sent
            async with http.post(url, data=raw, headers=headers) as response:
                if response.status != 200:
                    step.errors += 1
                await response.read()
            step.sent += len(posts)

        next_at = step.started
        while time.perf_counter() - step.started < seconds:
            posts = make_posts(n, batch, rng)
            n += batch
            task = asyncio.create_task(send(posts))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            elif len(in_flight) >= 8:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*in_flight)
    return n


def wait_visible(step: Step, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and len(step.seen_at) < len(step.sent_at):
        time.sleep(0.02)
    step.finished = max(step.seen_at.values(), default=time.perf_counter())


def copy_baseline(dsn: str, count: int) -> float:
    """COPY the rows the pipeline writes per post (post, case, decision, audit event) into
    scratch copies of the same tables; returns posts per second."""
    rng = random.Random(7)
    posts = make_posts(10_000_000, count, rng)
    now = datetime.now(UTC).isoformat()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("posts", "cases", "routing_decisions", "audit_events"):
            conn.execute(f"DROP TABLE IF EXISTS copy_{table}")
            conn.execute(f"CREATE TABLE copy_{table} (LIKE {table} INCLUDING ALL)")
        started = time.perf_counter()
        with conn.transaction():
            with conn.cursor().copy(
                "COPY copy_cases (id, channel, account, author_handle, queue, priority, status, sla_policy, "
                "ruleset_version, tags, risk, page_pr, needs_approval, first_post_id, first_inbound_at, "
                "created_at, updated_at) FROM STDIN"
            ) as copy:
                for i, p in enumerate(posts, start=1):
                    copy.write_row(
                        (
                            i,
                            SOURCE,
                            "acme",
                            p["author"]["handle"],
                            "forum",
                            3,
                            "new",
                            "relaxed",  # type: ignore[index]
                            "v1",
                            "[]",
                            0.0,
                            False,
                            False,
                            i,
                            p["created_at"],
                            now,
                            now,
                        )
                    )
            with conn.cursor().copy(
                "COPY copy_posts (id, channel, platform_id, account, author_handle, author_followers, "
                "author_verified, text, created_at, in_reply_to, direction, removed, raw, case_id, "
                "ingested_at) FROM STDIN"
            ) as copy:
                for i, p in enumerate(posts, start=1):
                    copy.write_row(
                        (
                            i,
                            SOURCE,
                            p["platform_id"],
                            "acme",
                            p["author"]["handle"],  # type: ignore[index]
                            p["author"]["followers"],
                            False,
                            p["text"],
                            p["created_at"],  # type: ignore[index]
                            p["in_reply_to"],
                            "inbound",
                            False,
                            json.dumps(p),
                            i,
                            now,
                        )
                    )
            with conn.cursor().copy(
                "COPY copy_routing_decisions (id, case_id, post_id, ruleset_version, queue, priority, "
                "sla_policy, matched, explanation, created_at) FROM STDIN"
            ) as copy:
                for i in range(1, count + 1):
                    copy.write_row(
                        (
                            i,
                            i,
                            i,
                            "v1",
                            "forum",
                            3,
                            "relaxed",
                            '["default"]',
                            '{"queue": "forum", "why": []}',
                            now,
                        )
                    )
            with conn.cursor().copy(
                "COPY copy_audit_events (id, at, actor, action, case_id, details) FROM STDIN"
            ) as copy:
                for i in range(1, count + 1):
                    copy.write_row((i, now, "system", "case.routed", i, '{"rules": ["default"]}'))
        elapsed = time.perf_counter() - started
        for table in ("posts", "cases", "routing_decisions", "audit_events"):
            conn.execute(f"DROP TABLE copy_{table}")
    return count / elapsed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="250,500,1000,2000,0")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--routers", type=int, default=1, help="router processes (each on its own port)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    scratch = f"engage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    dsn = admin_url(server_url, scratch)
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        f"INGEST_SECRET_{SOURCE.upper()}": SECRET,
        "VAR_DIR": str(ROOT / "var" / "bench"),
    }
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # case ids restart at 1: no stale timers
    engage = [sys.executable, "-m", "router.cli"]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        subprocess.run([*engage, "db", "upgrade"], env=env, check=True, capture_output=True)
        ports = [free_port() for _ in range(args.routers)]
        for i, port in enumerate(ports):
            processes[f"router{i}"] = subprocess.Popen(
                [*engage, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
            )
        for i in range(args.workers):
            processes[f"worker{i}"] = subprocess.Popen(
                [*engage, "worker"], env=env, stderr=subprocess.DEVNULL
            )
        asyncio.run(_wait_ready(ports))
        watched = {name: psutil.Process(p.pid) for name, p in processes.items()}
        sampler, watcher = Sampler(watched), Watcher(dsn, env["REDIS_URL"])
        sampler.start()
        watcher.start()
        rng, n, results = random.Random(42), 0, []
        for rate in [int(r) for r in args.rates.split(",")]:
            step = Step(rate)
            watcher.step = step
            cpu_before = {name: cpu_seconds(p) for name, p in watched.items()}
            url_n = n
            n = asyncio.run(_drive_all(ports, step, args.seconds, args.batch, url_n, rng))
            wait_visible(step)
            elapsed = step.finished - step.started
            lat, stored_lat = step.latencies_ms(), step.latencies_ms(step.stored_at)
            stored_for = max(step.stored_at.values(), default=step.finished) - step.started
            cpu = {
                name: round((cpu_seconds(p) - cpu_before[name]) / elapsed, 2) for name, p in watched.items()
            }
            results.append(
                {
                    "target_rate": rate or "max",
                    "sent": step.sent,
                    "visible": len(step.seen_at),
                    "posts_per_s": round(len(step.seen_at) / elapsed),
                    "p50_ms": round(percentile(lat, 0.5), 1),
                    "p99_ms": round(percentile(lat, 0.99), 1),
                    # the router's part alone: stored and routed, before the worker schedules timers
                    "stored_per_s": round(len(step.stored_at) / stored_for),
                    "stored_p50_ms": round(percentile(stored_lat, 0.5), 1),
                    "stored_p99_ms": round(percentile(stored_lat, 0.99), 1),
                    "http_errors": step.errors,
                    "cpu_cores": cpu,
                }
            )
            print(json.dumps(results[-1]), flush=True)
        sampler.stop.set()
        watcher.stop.set()
        watcher.join()  # its connection must be gone before the scratch database is dropped
        copy_rate = copy_baseline(dsn, 20_000)
        best = max(r["posts_per_s"] for r in results)
        at_1000 = next((r["p99_ms"] for r in results if r["target_rate"] == 1000), None)
        peak = {name: round(v / 2**20) for name, v in sampler.peak_rss.items()}
        print(
            f"sustained best: {best} posts/s; COPY baseline: {copy_rate:.0f} posts/s "
            f"({100 * best / copy_rate:.1f} % of it); p99 at 1000/s: {at_1000} ms; peak RSS MiB: {peak}"
        )
        print(
            json.dumps(
                {
                    "posts_per_s": best,
                    "copy_posts_per_s": round(copy_rate),
                    "p99_ms_at_1000": at_1000,
                    "ratio_to_copy": round(best / copy_rate, 3),
                    "peak_rss_mib": peak,
                    "routers": args.routers,
                    "workers": args.workers,
                    "steps": results,
                }
            )
        )
    finally:
        if os.environ.get("BENCH_KEEP_DB"):
            print(f"kept database {scratch} for inspection")
            scratch = ""
        for proc in processes.values():
            proc.terminate()
        for proc in processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if scratch:
            with psycopg.connect(admin_url(server_url, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


async def _wait_ready(ports: list[int]) -> None:
    async with aiohttp.ClientSession() as http:
        for port in ports:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"router on port {port} did not start")


async def _drive_all(
    ports: list[int], step: Step, seconds: float, batch: int, start: int, rng: random.Random
) -> int:
    """Spread the rate over the router processes, as a load balancer would."""
    share = Step(step.rate // len(ports)) if step.rate else step
    if len(ports) == 1:
        return await drive(f"http://127.0.0.1:{ports[0]}/ingest/{SOURCE}", step, seconds, batch, start, rng)
    tasks = []
    for i, port in enumerate(ports):
        part = Step(share.rate)
        part.sent_at, part.seen_at, part.stored_at = step.sent_at, step.seen_at, step.stored_at
        tasks.append(
            drive(
                f"http://127.0.0.1:{port}/ingest/{SOURCE}",
                part,
                seconds,
                batch,
                start + i * 10_000_000,
                random.Random(i),
            )
        )
    step.started = time.perf_counter()
    ends = await asyncio.gather(*tasks)
    step.sent = len(step.sent_at)
    return max(ends)


if __name__ == "__main__":
    main()
