"""The queue at 1,000,000 open cases in PostgreSQL: how long the router takes for the first queue
page (50 rows, most urgent first) with no filter and with every filter the UI offers, a case page
and a claim, and how long the periodic sweep (workers/maintenance.py) takes over all open cases.
Also the router's peak RSS.

Builds a scratch database of its own on the server DATABASE_URL names (default
postgresql://postgres@127.0.0.1:5432/postgres), loads the cases with COPY, starts a private
redis-server and the real `engage serve` on 127.0.0.1 and times requests with bearer tokens, at
the client over loopback and, from the router's access log (each request carries an
X-Request-ID), on the server.

    python bench/queue_bench.py [--cases 1000000] [--requests 100] [--keep] [--database NAME]

--keep leaves the scratch database in place and prints its name; --database NAME reuses such a
database (migrating it first, so new indexes are built and timed) instead of loading a new one.

The sweep runs once, in a process of its own, in the steady state (Redis still holds the timers
it scheduled, so the timer pass only re-checks cases due within the hour), with its parts timed:
sealing audit events, re-creating SLA timers, channel health, retention. --sweep-timeout bounds it.

Prints p50/p99 per measure and ends with one JSON line. Targets: first page <= 50 ms, case page
<= 50 ms, claim <= 20 ms, sweep <= 1 s, router RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
QUEUES = ("forum", "customer_service", "pr")
CHANNELS = ("x", "facebook", "community")
AGENTS = 50  # 30 % of cases are assigned, each agent holds 0.6 % of them
CASE_COLUMNS = (
    "id, channel, account, author_handle, queue, priority, status, assignee, sla_policy, ruleset_version, "
    "tags, risk, page_pr, needs_approval, first_post_id, first_inbound_at, last_inbound_at, "
    "first_response_due_at, next_due_at, sla_pauses, created_at, updated_at"
)
POST_COLUMNS = (
    "id, channel, platform_id, account, author_handle, author_followers, author_verified, text, created_at, "
    "direction, removed, case_id, ingested_at"
)
# Every filter the queue UI offers (router/web/casequery.py FILTERS), common and rare values.
PAGES = {
    "first_page": "",
    "queue=customer_service": "queue=customer_service",
    "queue=pr&channel=x": "queue=pr&channel=x",
    "status=waiting": "status=waiting",
    "status=all": "status=all",
    "status=resolved (none)": "status=resolved",
    "channel=facebook": "channel=facebook",
    "account=brand7 (5%)": "account=brand7",
    "account=nobody (0%)": "account=nobody",
    "priority=urgent": "priority=urgent",
    "tag=billing (10%)": "tag=billing",
    "tag=refund (0.1%)": "tag=refund",
    "tag=none (0%)": "tag=nosuchtag",
    "assignee=- (70%)": "assignee=-",
    "assignee=agent7 (0.6%)": "assignee=agent7",
    "risk=1 (~12%)": "risk=1",
    "q=arrived (all)": "q=arrived",
    "q=4242 (rare)": "q=4242",
    "q=user4242 (author)": "q=user4242",
    "q=zzqx (none)": "q=zzqx",
    "q=order 777 (two words)": "q=order+777",
    "queue=forum&tag=billing&priority=high": "queue=forum&tag=billing&priority=high",
}
ROLE_PAGES = {"customer_service": "role customer_service", "pr": "role pr (queue or risky)"}


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
                roll = rng.random()
                tags = '["billing"]' if roll < 0.1 else '["refund"]' if roll < 0.101 else "[]"
                copy.write_row(
                    (
                        i,
                        rng.choice(CHANNELS),
                        f"brand{rng.randrange(20)}",
                        f"user{rng.randrange(300_000)}",
                        rng.choice(QUEUES),
                        rng.randint(1, 4),
                        rng.choice(("new", "open", "waiting")),
                        f"agent{rng.randrange(AGENTS)}" if rng.random() < 0.3 else None,
                        "standard",
                        "bench",
                        tags,
                        rng.random() ** 6,  # ~11 % at or above the 0.5 risk threshold
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
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TIMEOUT = 60.0


def timed(
    url: str, token: str, *, method: str = "GET", body: bytes | None = None, rid: str = ""
) -> tuple[float, int]:
    """Client time of one request. `rid` (X-Request-ID) finds its server time in the access log."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if rid:
        headers["X-Request-ID"] = rid
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except TimeoutError:
        status = 504
    return (time.perf_counter() - started) * 1000, status


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
    }


def server_times(access_log: Path) -> dict[str, list[float]]:
    """The router's own time per request ("GET /api/cases?… 200 12.3ms") by measure, no warm-ups."""
    found: dict[str, list[float]] = {}
    for line in access_log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        rid, msg = str(entry.get("request_id") or ""), str(entry.get("msg", ""))
        if "|" not in rid or not msg.endswith("ms") or rid.endswith("|warm"):
            continue
        found.setdefault(rid.rsplit("|", 1)[0], []).append(float(msg.rsplit(" ", 1)[1][:-2]))
    return found


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def add_user(engage: list[str], env: dict[str, str], name: str, role: str) -> str:
    done = subprocess.run(
        [*engage, "user", "add", name, "--role", role], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100, help="per measure")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--database", help="reuse this scratch database instead of loading one")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per measure at most")
    parser.add_argument("--timeout", type=float, default=60.0, help="a request slower than this gives up")
    parser.add_argument("--only", help="only the measures whose names contain one of these (comma-separated)")
    parser.add_argument("--sweep-timeout", type=float, default=300.0, help="0 skips the sweep")
    args = parser.parse_args()
    global TIMEOUT
    TIMEOUT = args.timeout

    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    scratch = args.database or f"engage_queue_bench_{uuid.uuid4().hex[:8]}"
    if not args.database:
        with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
    dsn = admin_url(server, scratch)
    redis_dir = tempfile.mkdtemp(prefix="queue-bench-redis-")
    redis_port = free_port()
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", redis_dir],
        stdout=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "VAR_DIR": str(ROOT / "var" / "bench"),
    }
    engage = [sys.executable, "-m", "router.cli"]
    router = None
    try:
        started = time.perf_counter()
        subprocess.run([*engage, "db", "upgrade"], env=env, check=True, capture_output=True)
        upgrade_s = time.perf_counter() - started
        if args.database:
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT count(*) FROM cases").fetchone()
            args.cases = int(row[0]) if row else 0
            print(f"reusing {scratch}: {args.cases:,} cases; db upgrade took {upgrade_s:.1f} s", flush=True)
        else:
            load_s = load(dsn, args.cases)
            print(f"loaded {args.cases:,} open cases in {load_s:.0f} s into {scratch}", flush=True)
        suffix = uuid.uuid4().hex[:6]
        tokens = {
            role: add_user(engage, env, f"bench-{role}-{suffix}", role)
            for role in ("manager", "customer_service", "pr")
        }
        token = tokens["manager"]
        port = free_port()
        access_log = Path(redis_dir) / "router.log"
        with access_log.open("w") as log:
            router = subprocess.Popen(
                [*engage, "serve", "--port", str(port)], env=env, stderr=subprocess.STDOUT, stdout=log
            )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if timed(f"{base}/healthz", token)[1] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        load_before = os.getloadavg()
        figures: dict[str, dict[str, float]] = {}

        def wanted(name: str) -> bool:
            return not args.only or any(part in name for part in args.only.split(","))

        def show(name: str) -> None:
            f = figures[name]
            print(
                f"{name:40} p50 {f['p50_ms']:7.1f} ms   p99 {f['p99_ms']:7.1f} ms   n {f['n']:.0f}",
                flush=True,
            )

        def measure(name: str, url: str, who: str) -> None:
            if not wanted(name):
                return
            _, status = timed(url, who, rid=f"{name}|warm")
            if status == 504:
                figures[name] = {"p50_ms": TIMEOUT * 1000, "p99_ms": TIMEOUT * 1000, "n": 0}
                print(f"{name:40} timed out after {TIMEOUT:.0f} s", flush=True)
                return
            assert status == 200, (name, status)
            samples: list[float] = []
            until = time.perf_counter() + args.budget
            while len(samples) < args.requests and (len(samples) < 10 or time.perf_counter() < until):
                samples.append(timed(url, who, rid=f"{name}|{len(samples)}")[0])
            figures[name] = {**summary(samples), "n": len(samples)}
            show(name)

        for name, params in PAGES.items():
            measure(name, f"{base}/api/cases?limit=50&{params}", token)
        for role, name in ROLE_PAGES.items():
            measure(name, f"{base}/api/cases?limit=50", tokens[role])
        measure("html queue page (200 rows)", f"{base}/", token)
        if wanted("case_page"):
            with psycopg.connect(dsn) as conn:  # a reused database keeps earlier runs' claims
                held = {
                    r[0] for r in conn.execute("SELECT case_id FROM case_claims WHERE holder_id IS NOT NULL")
                }
            free = (
                i for i in random.Random(suffix).sample(range(1, args.cases + 1), args.requests + len(held))
            )
            case_ids = [i for i in free if i not in held][: args.requests]
            pages = [timed(f"{base}/api/cases/{i}", token, rid=f"case_page|{i}")[0] for i in case_ids]
            figures["case_page"] = {**summary(pages), "n": len(pages)}
            claims = [
                timed(f"{base}/api/cases/{i}/claim", token, method="POST", body=b"{}", rid=f"claim|{i}")
                for i in case_ids
            ]
            assert all(status in (200, 201) for _, status in claims), claims[:3]
            figures["claim"] = {**summary([ms for ms, _ in claims]), "n": len(claims)}
            show("case_page")
            show("claim")
        rss_mb = peak_rss_mb(router.pid)
        for name, times in server_times(access_log).items():
            if name in figures:
                on_server = summary(times)
                figures[name].update(server_p50_ms=on_server["p50_ms"], server_p99_ms=on_server["p99_ms"])
        print("\nserver time (the router's access log: request in, response out)")
        for name, f in figures.items():
            if "server_p50_ms" in f:
                print(f"{name:40} p50 {f['server_p50_ms']:7.1f} ms   p99 {f['server_p99_ms']:7.1f} ms")
        load_after = os.getloadavg()
        sweep = _sweep(env, args.sweep_timeout, redis.Redis(port=redis_port)) if args.sweep_timeout else {}
        print(
            f"router peak RSS {rss_mb} MB; load average {load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after"
        )
        print(f"sweep (steady state, near pass): {json.dumps(sweep)}")
        slow = [
            n
            for n, f in figures.items()
            if f.get("server_p99_ms", f["p99_ms"]) > (20 if n == "claim" else 50)
        ]
        print(f"over target at p99 (server time): {', '.join(slow) or 'none'}")
        print(
            json.dumps(
                {
                    "cases": args.cases,
                    **figures,
                    "sweep_s": sweep.get("total_s"),
                    "sweep": sweep,
                    "router_rss_mb": rss_mb,
                    "loadavg": [round(load_before[0], 2), round(load_after[0], 2)],
                    "db_upgrade_s": round(upgrade_s, 1),
                }
            )
        )
    finally:
        if router is not None:
            router.terminate()
            try:
                router.wait(timeout=15)
            except subprocess.TimeoutExpired:
                router.kill()
        redis_server.terminate()
        redis_server.wait(timeout=15)
        shutil.rmtree(redis_dir, ignore_errors=True)
        if args.keep or args.database:
            print(f'kept database {scratch} (drop it with: DROP DATABASE "{scratch}")', file=sys.stderr)
        else:
            with psycopg.connect(admin_url(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


SWEEP = """
import json, sys, time
from workers import maintenance as m, timers
from workers.connection import redis_connection

parts = {}

def timed(name, fn):
    def run(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            parts[name] = round(time.perf_counter() - t, 3)
    return run

m.audit.seal_pending = timed("audit_seal_s", m.audit.seal_pending)
m.timers.sweep_timers = timed("timers_s", m.timers.sweep_timers)
m.check_channels = timed("channels_s", m.check_channels)
m.purge_raw_payloads = timed("retention_s", m.purge_raw_payloads)
redis_connection().set(timers.MARKER, "1")  # steady state: Redis holds the timers we scheduled
t = time.perf_counter()
done = m.sweep()
print(json.dumps({"total_s": round(time.perf_counter() - t, 3), **parts, "done": done}))
"""


def _sweep(env: dict[str, str], timeout: float, conn: redis.Redis) -> dict[str, object]:
    """The periodic sweep (workers/maintenance.py) run once, in a process of its own."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", SWEEP], env=env, capture_output=True, text=True, cwd=ROOT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        jobs = conn.zcard("rq:scheduled:sla")
        return {"total_s": None, "timed_out_after_s": timeout, "sla_jobs_scheduled_so_far": jobs}
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return {"total_s": None, "error": done.stderr.strip().splitlines()[-1:]}
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    found["redis_used_mb"] = round(int(conn.info("memory")["used_memory"]) / 2**20)
    return found


if __name__ == "__main__":
    main()
