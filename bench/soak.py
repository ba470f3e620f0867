"""Soak: the fault loop of tests/faults, round after round, for a given duration.

Each round runs every fault (Redis killed, worker killed mid-job, PostgreSQL restarted, router
killed mid-burst, X API 500s/429s during `engage poll x`) against a private PostgreSQL and Redis
started here (never the machine's shared servers), with a heavier stream than CI uses. Prints the
table of faults x (posts in, posts stored, duplicates, timers missed) summed over rounds, and ends
with one JSON line.

    python bench/soak.py --minutes 10 [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults import scenarios  # noqa: E402
from tests.faults.checks import Row, table  # noqa: E402
from tests.faults.harness import PrivatePostgres, PrivateRedis, available  # noqa: E402
from tests.faults.x_poll import run_x_poll_storm  # noqa: E402


def _add(total: dict[str, Row], row: Row) -> None:
    acc = total.setdefault(row.fault, Row(row.fault, timers_missed=row.timers_missed))
    acc.posts_in += row.posts_in
    acc.stored += row.stored
    acc.duplicates += row.duplicates
    acc.unrouted += row.unrouted
    acc.retried_requests += row.retried_requests
    acc.recovery_s = max(acc.recovery_s, row.recovery_s)
    if row.timers_missed is not None:
        acc.timers_missed = (acc.timers_missed or 0) + row.timers_missed
    acc.problems += row.problems
    acc.pending_inbox += row.pending_inbox
    acc.audit_chain_ok = acc.audit_chain_ok and row.audit_chain_ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=5.0, help="run rounds until this much time has passed"
    )
    parser.add_argument("--requests", type=int, default=200, help="HTTP deliveries per fault")
    parser.add_argument("--replay-posts", type=int, default=1000, help="lines of the replayed file per fault")
    args = parser.parse_args()
    why = available()
    if why:
        print(f"cannot soak here: {why}", file=sys.stderr)
        return 2
    load = scenarios.Load(requests=args.requests, replay_posts=args.replay_posts)
    totals: dict[str, Row] = {}
    rounds, started = 0, time.monotonic()
    pg, redis = PrivatePostgres(), PrivateRedis()
    try:
        pg.start()
        redis.start()
        template = scenarios.make_template(pg, redis)
        while time.monotonic() - started < args.minutes * 60:
            rounds += 1
            for fault in scenarios.HTTP_FAULTS:
                row = scenarios.run(pg, redis, template, fault(), load)
                _add(totals, row)
                print(
                    f"round {rounds}: {row.fault}: {row.stored}/{row.posts_in} stored, ok={row.ok}",
                    flush=True,
                )
            row = run_x_poll_storm(pg, redis, template)
            _add(totals, row)
            print(f"round {rounds}: {row.fault}: {row.stored}/{row.posts_in} stored, ok={row.ok}", flush=True)
    finally:
        redis.close()
        pg.close()
    rows = list(totals.values())
    print(table(rows))
    ok = all(r.ok for r in rows)
    summary = {
        "bench": "soak",
        "rounds": rounds,
        "seconds": round(time.monotonic() - started, 1),
        "ok": ok,
        "faults": {
            r.fault: {
                "posts_in": r.posts_in,
                "posts_stored": r.stored,
                "duplicates": r.duplicates,
                "timers_missed": r.timers_missed,
                "unrouted": r.unrouted,
                "max_recovery_s": round(r.recovery_s, 1),
                "problems": r.problems[:5],
            }
            for r in rows
        },
    }
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
