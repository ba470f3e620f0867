"""The queue at 1,000,000 open cases in PostgreSQL: how long the router takes for the first queue
page (50 rows, most urgent first, with and without filters), a case page and a claim, and how
long the SLA sweep over all open cases takes. Also the router's peak RSS.

Builds a scratch database of its own on the server DATABASE_URL names (default
postgresql://postgres@127.0.0.1:5432/postgres), loads the cases with COPY, starts the real
`engage serve` on 127.0.0.1 and times requests with a bearer token. The times are measured at the
client over loopback, so they include HTTP on 127.0.0.1 (well under a millisecond here).

    python bench/queue_bench.py [--cases 1000000] [--requests 30]

Prints the figures and ends with one JSON line. Targets: first page <= 50 ms, case page <= 50 ms,
claim <= 20 ms, sweep <= 1 s, router RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
QUEUES = ("forum", "customer_service", "pr")
CHANNELS = ("x", "facebook", "community")
CASE_COLUMNS = (
    "id, channel, account, author_handle, queue, priority, status, sla_policy, ruleset_version, tags, risk, "
    "page_pr, needs_approval, first_post_id, first_inbound_at, last_inbound_at, first_response_due_at, "
    "next_due_at, sla_pauses, created_at, updated_at"
)
POST_COLUMNS = (
    "id, channel, platform_id, account, author_handle, author_followers, author_verified, text, created_at, "
    "direction, removed, case_id, ingested_at"
)


def admin_url(url: str, database: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{database}"


def load(dsn: str, count: int) -> float:
    rng = random.Random(11)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY cases ({CASE_COLUMNS}) FROM STDIN") as copy:
            for i in range(1, count + 1):
                arrived = now - timedelta(seconds=rng.randrange(3 * 86400))
                due = arrived + timedelta(minutes=rng.choice((15, 60, 480)))
                copy.write_row(
                    (
                        i,
                        rng.choice(CHANNELS),
                        f"brand{rng.randrange(20)}",
                        f"user{rng.randrange(300_000)}",
                        rng.choice(QUEUES),
                        rng.randint(1, 4),
                        rng.choice(("new", "open", "waiting")),
                        "standard",
                        "bench",
                        '["billing"]' if rng.random() < 0.1 else "[]",
                        rng.random() * 50,
                        rng.random() < 0.02,
                        False,
                        i,
                        arrived,
                        arrived,
                        due,
                        due,
                        "[]",
                        arrived,
                        arrived,
                    )
                )
        with conn.cursor().copy(f"COPY posts ({POST_COLUMNS}) FROM STDIN") as copy:
            for i in range(1, count + 1):
                copy.write_row(
                    (
                        i,
                        "x",
                        f"q{i}",
                        "brand",
                        f"user{i % 300_000}",
                        10,
                        False,
                        f"my order {i} never arrived",
                        now,
                        "inbound",
                        False,
                        i,
                        now,
                    )
                )
        for table in ("cases", "posts"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(url: str, token: str, *, method: str = "GET", body: bytes | None = None) -> tuple[float, int]:
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    scratch = f"engage_queue_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    dsn = admin_url(server, scratch)
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "VAR_DIR": str(ROOT / "var" / "bench"),
    }
    engage = [sys.executable, "-m", "router.cli"]
    router = None
    try:
        subprocess.run([*engage, "db", "upgrade"], env=env, check=True, capture_output=True)
        load_s = load(dsn, args.cases)
        print(f"loaded {args.cases:,} open cases in {load_s:.0f} s", flush=True)
        token = (
            subprocess.run(
                [*engage, "user", "add", "bench-manager", "--role", "manager"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        port = free_port()
        router = subprocess.Popen(
            [*engage, "serve", "--port", str(port)],
            env=env,
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if timed(f"{base}/healthz", token)[1] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(3)
        figures: dict[str, dict[str, float]] = {}
        pages = {
            "first_page": "/api/cases?limit=50",
            "first_page_queue_filter": "/api/cases?limit=50&queue=customer_service",
            "first_page_two_filters": "/api/cases?limit=50&queue=pr&channel=x",
            "first_page_tag_filter": "/api/cases?limit=50&tag=billing",
        }
        for name, path in pages.items():
            timed(base + path, token)  # warm
            figures[name] = summary([timed(base + path, token)[0] for _ in range(args.requests)])
        case_ids = [rng.randrange(1, args.cases + 1) for _ in range(args.requests)]
        figures["case_page"] = summary([timed(f"{base}/api/cases/{i}", token)[0] for i in case_ids])
        claims = [timed(f"{base}/api/cases/{i}/claim", token, method="POST", body=b"{}") for i in case_ids]
        assert all(status in (200, 201) for _, status in claims), claims[:3]
        figures["claim"] = summary([ms for ms, _ in claims])
        sweep_s = _sweep_seconds(env)
        rss_mb = round(psutil.Process(router.pid).memory_info().rss / 2**20)
        for name, figure in figures.items():
            print(f"{name:28} p50 {figure['p50_ms']:7.1f} ms   p99 {figure['p99_ms']:7.1f} ms")
        sweep = "n/a" if sweep_s is None else f"{sweep_s} s"
        print(f"sla sweep over all open cases: {sweep}; router RSS {rss_mb} MB")
        print(json.dumps({"cases": args.cases, **figures, "sweep_s": sweep_s, "router_rss_mb": rss_mb}))
    finally:
        if router is not None:
            router.terminate()
            router.wait(timeout=15)
        with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _sweep_seconds(env: dict[str, str]) -> float | None:
    """The periodic SLA sweep (workers/maintenance.py) run once, in a process of its own."""
    code = (
        "import time; from workers import maintenance as m; "
        "t = time.perf_counter(); m.sweep(); print(time.perf_counter() - t)"
    )

    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return round(float(done.stdout.strip().splitlines()[-1]), 3)


if __name__ == "__main__":
    main()
