"""The fault loop: a stream of posts through the real router while one thing breaks, then the count.

Each scenario gets a fresh database (a copy of a migrated template) on the private PostgreSQL, a
flushed private Redis, a real `engage serve` and a real `engage worker`. Used by tests/faults and
bench/soak.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis as redis_lib

from tests.faults.checks import Row, engine_for, measure, pending_inbox, settle
from tests.faults.harness import PrivatePostgres, PrivateRedis, Stack, wait_for
from tests.faults.stream import Key, Sender, deliveries, replay_file, stack_env

SETTLE_SECONDS = 45


@dataclass
class Load:
    requests: int = 60  # HTTP deliveries per scenario (4 of 5 carry 5 posts, 1 of 5 is an X webhook)
    replay_posts: int = 200  # lines of the JSONL file replayed with `engage ingest`
    threads: int = 4
    interval: float = 0.02


class Fault:
    """One scenario: `inject` runs while the stream flows; `replay_during` also replays a file."""

    name = "fault"
    replay_during = False

    def inject(self, stack: Stack, sender: Sender, row: Row) -> None:
        raise NotImplementedError


def flush_redis(redis: PrivateRedis) -> None:
    conn = redis_lib.Redis.from_url(redis.url(0), socket_timeout=5)
    try:
        conn.flushall()
    finally:
        conn.close()


def _rq_keys(redis: PrivateRedis) -> list[str]:
    conn = redis_lib.Redis.from_url(redis.url(0), socket_timeout=5)
    try:
        return sorted(k.decode() for k in conn.keys("rq:*"))[:30]
    except redis_lib.RedisError as exc:
        return [repr(exc)]
    finally:
        conn.close()


def _replay(stack: Stack, keys_out: list[Key], tag: str, count: int) -> Callable[[], bool]:
    """Start `engage ingest` on a fresh file; returns a function that reports success so far."""
    path = stack.workdir / f"{tag}.jsonl"
    keys_out += replay_file(path, tag, count)
    proc = stack.spawn(f"ingest-{tag}", [str(stack.router.args[0]), "ingest", str(path), "--format", "jsonl"])

    def finished_ok() -> bool:
        assert proc.proc is not None
        try:
            return proc.proc.wait(timeout=120) == 0
        except Exception:
            proc.kill()
            return False

    return finished_ok


def run(pg: PrivatePostgres, redis: PrivateRedis, template: str, fault: Fault, load: Load) -> Row:
    name = f"{fault.name.replace(' ', '_')}_{uuid.uuid4().hex[:6]}"
    flush_redis(redis)
    stack = Stack(pg, redis, name, stack_env(), template=template)
    row = Row(fault.name)
    engine = engine_for(stack.database_url)
    try:
        stack.start_router()
        stack.start_worker()
        sender = Sender(stack.base_url, threads=load.threads, interval=load.interval)
        first, rest = load.requests // 3, load.requests - load.requests // 3
        sender.send(deliveries(name, 0, first))
        replay_keys: list[Key] = []
        replay_ok = (
            _replay(stack, replay_keys, f"{name}-r1", load.replay_posts) if fault.replay_during else None
        )
        wait_for(lambda: sender.stats.requests >= first // 2, 60, "the stream to flow")
        sender.send(deliveries(name, first, rest))
        started = time.monotonic()
        fault.inject(stack, sender, row)
        stats = sender.close()
        if replay_ok is not None and not replay_ok():
            row.notes.append("replay failed during the fault; replayed again (adds nothing twice)")
            stack.engage("ingest", str(stack.workdir / f"{name}-r1.jsonl"), "--format", "jsonl", timeout=180)
        if stack.ensure_worker():
            row.notes.append("worker had exited; restarted by the supervisor")
        keys = stats.accepted | set(replay_keys)
        waited = settle(engine, keys, timeout=SETTLE_SECONDS)
        row.recovery_s = time.monotonic() - started
        row.retried_requests = stats.retried
        if stats.given_up:
            row.problems.append(f"{len(stats.given_up)} requests never accepted: {stats.given_up[:3]}")
        if waited >= SETTLE_SECONDS:
            row.problems.append(f"not settled after {SETTLE_SECONDS} s")
        measure(row, engine, keys)
        if not row.ok:
            row.notes.append(f"router log tail: {stack.router.tail(800)!r}")
            row.notes.append(f"worker log tail: {stack.worker.tail(1500)!r}")
            row.notes.append(f"redis keys: {_rq_keys(redis)}")
        return row
    finally:
        engine.dispose()
        stack.close()


class RedisKilled(Fault):
    """kill -9 Redis mid-stream; posts keep arriving (HTTP and file) while it is down; restart it."""

    name = "redis killed -9"
    replay_during = True
    down_seconds = 3.0

    def inject(self, stack: Stack, sender: Sender, row: Row) -> None:
        before = len(sender.stats.accepted)
        stack.redis.kill()
        down_at = time.monotonic()
        replay_keys: list[Key] = []
        ok = _replay(stack, replay_keys, f"{stack.name}-down", 50)
        time.sleep(self.down_seconds)
        accepted_while_down = len(sender.stats.accepted) - before
        file_ok = ok()
        stack.redis.start()
        row.notes.append(
            f"Redis down {time.monotonic() - down_at:.1f} s: {accepted_while_down} posts accepted over HTTP, "
            f"file replay {'ok' if file_ok else 'FAILED'}"
        )
        if accepted_while_down == 0 or not file_ok:
            row.problems.append("ingest stopped while Redis was down")
        sender.stats.accepted.update(replay_keys)  # the file's posts are accepted posts too


class WorkerKilled(Fault):
    """kill -9 the worker (and its work horse) while a job runs, then start a new one."""

    name = "worker killed -9 mid-job"

    def inject(self, stack: Stack, sender: Sender, row: Row) -> None:
        from rq import Queue
        from rq.registry import StartedJobRegistry

        from workers.queues import ALL_QUEUES

        conn = redis_lib.Redis.from_url(stack.redis.url(0), socket_timeout=5)
        try:
            registries = [StartedJobRegistry(queue=Queue(q, connection=conn)) for q in ALL_QUEUES]

            def busy() -> bool:
                return any(r.get_job_ids() for r in registries)

            try:
                wait_for(busy, 20, "a job to be running", interval=0.002)
            except Exception:
                row.notes.append("no job caught running; killed anyway")
            running = [j for r in registries for j in r.get_job_ids()]
            stack.worker.kill()
            row.notes.append(f"killed while running {running}")
            time.sleep(1.0)
            stack.start_worker()
            time.sleep(3.0)
            # A job id left behind blocks enqueue_once(unique=True) of the same id until it expires.
            left = {j: conn.hget(f"rq:job:{j}", "status") for j in running if conn.exists(f"rq:job:{j}")}
            if left:
                row.notes.append(
                    f"after restart these job ids still exist (enqueue_once refuses them): {left}"
                )
        finally:
            conn.close()


class PostgresRestarted(Fault):
    """Stop PostgreSQL (fast shutdown), keep it down for a moment, start it again."""

    name = "postgresql restarted"
    replay_during = True

    def inject(self, stack: Stack, sender: Sender, row: Row) -> None:
        stack.pg.restart(down_for=2.0)


class RouterKilled(Fault):
    """kill -9 the router mid-burst; the senders retry; a new router processes what was pending."""

    name = "router killed -9 mid-burst"

    def inject(self, stack: Stack, sender: Sender, row: Row) -> None:
        stack.router.kill()
        engine = engine_for(stack.database_url)
        try:
            row.notes.append(f"{pending_inbox(engine)} stored deliveries unprocessed at the kill")
        finally:
            engine.dispose()
        time.sleep(1.0)
        stack.start_router()


HTTP_FAULTS: tuple[type[Fault], ...] = (RedisKilled, WorkerKilled, PostgresRestarted, RouterKilled)


def make_template(pg: PrivatePostgres, redis: PrivateRedis, name: str = "faults_template") -> str:
    """A migrated database that every scenario copies (CREATE DATABASE … TEMPLATE)."""
    stack = Stack(pg, redis, name, stack_env())
    stack.others.clear()
    import shutil

    shutil.rmtree(stack.workdir, ignore_errors=True)
    return name
