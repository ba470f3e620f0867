"""How long a 30-day SLA report grouped by queue and channel takes over 1,000,000 cases.

Builds a scratch PostgreSQL database of its own (DATABASE_URL names the server; default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads the cases, their posts, some
audit events and their stored business times with COPY, runs the report a few times and drops the
database. Prints the figures and ends with one JSON line. Target: under 2 s.

    .venv/bin/python bench/report_bench.py [--cases 1000000] [--days 365] [--runs 3] [--sections]
        [--baseline] [--keep | --url URL]

--sections prints the seconds each part of the report took (build_report's timings: the
report's table of cases, business refresh, counts, posts, percentiles, next response, trend,
backlog, …); --baseline also times the former query form (tests/reports/legacy, the same figures)
in the same run, alternating with the current one; --url reuses a database kept with --keep.
The machine is shared: every timed line carries the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router import db
from router.reports.report import build_report
from router.reports.scope import ReportFilter
from router.settings import normalize_database_url

END = datetime(2026, 11, 1, tzinfo=UTC)
QUEUES = (("forum", 0.5, 3600), ("customer_service", 0.4, 1800), ("pr", 0.1, 900))  # name, share, SLA s
CHANNELS = (("x", 0.6), ("facebook", 0.3), ("forum", 0.1))
ACCOUNTS = [f"brand{i}" for i in range(20)]
AGENTS = [f"agent{i}" for i in range(50)]
TAGS = ("[]", "[]", "[]", '["billing"]', '["outage"]', '["billing", "vip"]')


def _urls() -> tuple[str, str]:
    server = make_url(
        normalize_database_url(
            os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
        )
    )
    name = f"engage_report_bench_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return admin, server.set(database=name).render_as_string(hide_password=False)


def _pick(rng: random.Random, weighted: tuple[tuple, ...]) -> tuple:  # type: ignore[type-arg]
    x, acc = rng.random(), 0.0
    for item in weighted:
        acc += item[1]
        if x < acc:
            return item
    return weighted[-1]


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def generate(n: int, days: int, seed: int = 7) -> Iterator[tuple[str, list[str], list[str], list[str]]]:
    """Per case: its COPY line, its posts' lines, its audit events' lines, its business-times line."""
    rng = random.Random(seed)
    start = END - timedelta(days=days)
    span = days * 86400
    post_id = 0
    for case_id in range(1, n + 1):
        queue, _, target = _pick(rng, QUEUES)
        channel = _pick(rng, CHANNELS)[0]
        arrived = start + timedelta(seconds=rng.randrange(span))
        answered = rng.random() < 0.9
        wait = int(rng.lognormvariate(6.8, 1.2))  # median ~15 min, long tail
        first_out = arrived + timedelta(seconds=wait) if answered else None
        resolved = (
            first_out + timedelta(seconds=int(rng.expovariate(1 / 7200)))
            if answered and rng.random() < 0.6
            else None
        )
        assignee = rng.choice(AGENTS) if rng.random() < 0.7 else None
        n_ = r"\N"
        due = arrived + timedelta(seconds=target)
        case_line = "\t".join(
            [
                str(case_id),
                channel,
                rng.choice(ACCOUNTS),
                f"user{rng.randrange(200000)}",
                queue,
                str(rng.randint(1, 4)),
                "resolved" if resolved else ("waiting" if answered else "open"),
                assignee or n_,
                f"{queue}-standard",
                "bench",
                rng.choice(TAGS),
                "0",
                "t" if queue == "pr" and rng.random() < 0.3 else "f",
                "t" if queue == "pr" else "f",
                str(post_id + 1),
                _ts(arrived),
                _ts(first_out) if first_out else n_,
                _ts(arrived),
                _ts(first_out) if first_out else n_,
                _ts(due),
                n_,
                _ts(arrived + timedelta(days=2)),
                _ts(resolved) if resolved else n_,
                n_,
                _ts(arrived),
                _ts(resolved or first_out or arrived),
            ]
        )
        posts = []
        moments = [("inbound", arrived)]
        if first_out:
            moments.append(("outbound", first_out))
            if rng.random() < 0.3:
                again = first_out + timedelta(seconds=rng.randrange(60, 7200))
                moments += [
                    ("inbound", again),
                    ("outbound", again + timedelta(seconds=int(rng.lognormvariate(6, 1)))),
                ]
        for direction, at in moments:
            post_id += 1
            posts.append(
                "\t".join(
                    [
                        str(post_id),
                        channel,
                        f"p{post_id}",
                        "acct",
                        "someone",
                        "0",
                        "f",
                        "hi",
                        _ts(at),
                        direction,
                        "f",
                        str(case_id),
                        _ts(at),
                    ]
                )
            )
        events = []
        if rng.random() < 0.05:
            events.append(
                f"{case_id}\thandoff\tcase.handoff\t{_ts(arrived + timedelta(minutes=5))}\t"
                f'{{"from_queue": "forum", "to_queue": "{queue}"}}'
            )
        if assignee and rng.random() < 0.5:
            events.append(f"{case_id}\t{assignee}\tcase.claimed\t{_ts(arrived + timedelta(minutes=2))}\t{{}}")
        fr_b = str(int(wait * 0.6)) if answered else n_
        res_b = str(int((resolved - arrived).total_seconds() * 0.5)) if resolved else n_
        times = f"{case_id}\t\t{_ts(resolved or first_out or arrived)}\t{fr_b}\t{res_b}\t{_ts(END)}"
        yield case_line, posts, events, [times]


CASE_COLUMNS = (
    "id, channel, account, author_handle, queue, priority, status, assignee, sla_policy, ruleset_version, "
    "tags, risk, page_pr, needs_approval, first_post_id, first_inbound_at, first_response_at, "
    "last_inbound_at, last_response_at, first_response_due_at, next_response_due_at, resolution_due_at, "
    "resolved_at, merged_into_id, created_at, updated_at"
)
POST_COLUMNS = (
    "id, channel, platform_id, account, author_handle, author_followers, author_verified, text, created_at, "
    "direction, removed, case_id, ingested_at"
)


def load(url: str, n: int, days: int) -> dict[str, int]:
    counts = {"cases": 0, "posts": 0, "audit_events": 0}
    conn_url = url.replace("postgresql+psycopg://", "postgresql://")
    with (
        psycopg.connect(conn_url, autocommit=True) as conn,
        conn.cursor() as c1,
        conn.cursor() as c2,
        conn.cursor() as c3,
        conn.cursor() as c4,
    ):
        # four COPY streams cannot share one connection: buffer per table, flush in chunks
        buffers: dict[str, list[str]] = {
            "cases": [],
            "posts": [],
            "audit_events": [],
            "report_case_times": [],
        }
        sql = {
            "cases": f"COPY cases ({CASE_COLUMNS}) FROM STDIN",
            "posts": f"COPY posts ({POST_COLUMNS}) FROM STDIN",
            "audit_events": "COPY audit_events (case_id, actor, action, at, details) FROM STDIN",
            "report_case_times": "COPY report_case_times (case_id, calendar, case_updated_at, "
            "first_response_s, resolution_s, computed_at) FROM STDIN",
        }
        del c1, c2, c3, c4

        def flush(table: str) -> None:
            if buffers[table]:
                with conn.cursor() as cur, cur.copy(sql[table]) as copy:
                    copy.write("\n".join(buffers[table]) + "\n")
                buffers[table].clear()

        for case_line, posts, events, times in generate(n, days):
            buffers["cases"].append(case_line)
            buffers["posts"].extend(posts)
            buffers["audit_events"].extend(events)
            buffers["report_case_times"].extend(times)
            counts["posts"] += len(posts)
            counts["audit_events"] += len(events)
            if len(buffers["cases"]) >= 100_000:
                for table in ("cases", "posts", "audit_events", "report_case_times"):
                    flush(table)
        for table in ("cases", "posts", "audit_events", "report_case_times"):
            flush(table)
        counts["cases"] = n
        conn.execute("VACUUM ANALYZE")
    return counts


class ServerCpu:
    """CPU seconds the engine's PostgreSQL backends spent (read from /proc: a server on this
    machine only), a figure the other engineers' load does not inflate the way it does wall time."""

    def __init__(self, engine: Any) -> None:
        self.pids: set[int] = set()
        event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        self.pids.add(int(dbapi_conn.info.backend_pid))

    def seconds(self) -> float | None:
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        return total / os.sysconf("SC_CLK_TCK")


def _cpu_since(cpu: ServerCpu, before: float | None) -> float | None:
    after = cpu.seconds()
    return None if before is None or after is None else after - before


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _legacy() -> Callable[[Any, ReportFilter], dict[str, Any]]:
    """The former query form, frozen in the tests as an oracle (same figures, other SQL)."""
    from tests.reports.legacy.report import build_report as legacy_report
    from tests.reports.legacy.scope import ReportFilter as LegacyFilter

    def run(engine: Any, flt: ReportFilter) -> dict[str, Any]:
        return legacy_report(
            engine, LegacyFilter(start=flt.start, end=flt.end, group_by=flt.group_by, as_of=flt.as_of)
        )

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="the cases arrive over this many days")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sections", action="store_true", help="print the seconds per part of the report")
    parser.add_argument("--baseline", action="store_true", help="also time the former query form")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (prints its URL)")
    parser.add_argument("--url", help="use this database, loaded and kept by an earlier --keep run")
    args = parser.parse_args()
    admin, url = _urls()
    if args.url:
        url = args.url
    name = make_url(url).database
    if not args.url:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = db.make_engine(url)
    cpu = ServerCpu(engine)
    try:
        db.upgrade(engine)
        if args.url:
            counts = _counts(url)
            print(f"reusing {counts}", flush=True)
        else:
            started = time.perf_counter()
            counts = load(url, args.cases, args.days)
            load_s = time.perf_counter() - started
            print(f"loaded {counts} in {load_s:.1f} s", flush=True)
        flt = ReportFilter(start=END - timedelta(days=30), end=END, group_by=("queue", "channel"), as_of=END)
        legacy = _legacy() if args.baseline else None
        timings: list[float] = []
        baseline: list[float] = []
        sections: list[dict[str, float]] = []
        loads: list[str] = []
        cpu_s: list[float | None] = []
        baseline_cpu_s: list[float | None] = []
        report: dict[str, Any] = {}
        for run in range(args.runs):
            if legacy is not None:
                before, started = cpu.seconds(), time.perf_counter()
                old = legacy(engine, flt)
                baseline.append(time.perf_counter() - started)
                baseline_cpu_s.append(_cpu_since(cpu, before))
                print(
                    f"run {run + 1} former queries: {baseline[-1]:.2f} s, server CPU "
                    f"{_fmt(baseline_cpu_s[-1])}  (load {_load_average()})",
                    flush=True,
                )
            parts: dict[str, float] = {}
            before, started = cpu.seconds(), time.perf_counter()
            report = build_report(engine, flt, timings=parts)
            timings.append(time.perf_counter() - started)
            cpu_s.append(_cpu_since(cpu, before))
            sections.append(parts)
            loads.append(_load_average())
            print(
                f"run {run + 1} report: {timings[-1]:.2f} s, "
                f"server CPU {_fmt(cpu_s[-1])}  (load {loads[-1]})",
                flush=True,
            )
            if args.sections:
                print(
                    "    "
                    + "  ".join(f"{k} {v:.3f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
                )
            if legacy is not None and old != report:
                print("    WARNING: the former queries gave other figures", flush=True)
        in_period = report["totals"]["cases"]
        best, first, median = min(timings), timings[0], statistics.median(timings)
        print(
            f"30-day report grouped by queue, channel: {in_period} cases in the period, "
            f"{len(report['groups'])} groups; runs: {', '.join(f'{t:.2f} s' for t in timings)}; "
            f"min {best:.2f} s, median {median:.2f} s"
            + (
                f"; former queries min {min(baseline):.2f} s, median {statistics.median(baseline):.2f} s"
                if baseline
                else ""
            )
        )
        fastest = sections[timings.index(best)]
        if args.sections:
            print("fastest run by section (s): " + ", ".join(f"{k} {v:.3f}" for k, v in fastest.items()))
        print(
            json.dumps(
                {
                    "bench": "report",
                    "cases_total": counts["cases"],
                    "posts": counts["posts"],
                    "cases_in_period": in_period,
                    "groups": len(report["groups"]),
                    "first_run_s": round(first, 3),
                    "best_s": round(best, 3),
                    "median_s": round(median, 3),
                    "runs_s": [round(t, 3) for t in timings],
                    "baseline_best_s": round(min(baseline), 3) if baseline else None,
                    "baseline_median_s": round(statistics.median(baseline), 3) if baseline else None,
                    "sections_best_run_s": {k: round(v, 3) for k, v in fastest.items()},
                    "server_cpu_s": [None if c is None else round(c, 2) for c in cpu_s],
                    "baseline_server_cpu_s": [None if c is None else round(c, 2) for c in baseline_cpu_s],
                    "load_average": loads,
                    "target_s": 2.0,
                    "ok": best < 2.0,
                }
            )
        )
    finally:
        engine.dispose()
        if args.keep or args.url:
            print(f"kept {url}")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fmt(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f} s"


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in ("cases", "posts", "audit_events")
        }


if __name__ == "__main__":
    main()
