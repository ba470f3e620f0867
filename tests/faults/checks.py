"""What must hold after every fault, counted from the database itself, and the table of results.

Extension point for SLA timers and paging: `EFFECT_CHECKS`. When workers/timers.py and
workers/paging/ store what they fired, register a function here that returns
`{"timers_missed": n, "duplicate_pages": m}` for a database (workers.timers.missed_and_duplicates
is registered below); the table shows "n/a" when none is registered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from router.settings import normalize_database_url
from tests.faults.stream import Key

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "fault_table.txt"

EffectCheck = Callable[[Engine], dict[str, int]]
EFFECT_CHECKS: list[EffectCheck] = []  # see the module docstring


def _sla_timers_and_pages(engine: Engine) -> dict[str, int]:
    from workers.timers import missed_and_duplicates

    return missed_and_duplicates(engine)


try:  # the SLA timers and paging have landed: their own count of missed stages and repeated pages
    import workers.timers  # noqa: F401

    EFFECT_CHECKS.append(_sla_timers_and_pages)
except ImportError:
    pass


@dataclass
class Row:
    fault: str
    posts_in: int = 0
    stored: int = 0
    duplicates: int = 0
    timers_missed: int | None = None  # None: no timers to check yet
    unrouted: int = 0
    unsealed_audit: int = 0
    audit_chain_ok: bool = True
    pending_inbox: int = 0
    retried_requests: int = 0
    recovery_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.posts_in - self.stored

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.duplicates == 0
            and self.unrouted == 0
            and not self.timers_missed
            and self.audit_chain_ok
            and self.pending_inbox == 0
            and not self.problems
        )


def engine_for(database_url: str) -> Engine:
    return create_engine(normalize_database_url(database_url), pool_pre_ping=True)


def stored_keys(engine: Engine, keys: Iterable[Key]) -> set[Key]:
    wanted = set(keys)
    channels = sorted({c for c, _ in wanted})
    if not channels:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT channel, platform_id FROM posts WHERE channel = ANY(:c)"), {"c": channels}
        ).all()
    return {(c, p) for c, p in rows} & wanted


def pending_inbox(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar_one()
        )


def unsealed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_events WHERE seq IS NULL")).scalar_one())


def settle(
    engine: Engine, keys: set[Key], *, timeout: float, want_sealed: bool = True, stable_for: float = 1.0
) -> float:
    """Seconds until every accepted post is stored, the inbox is drained and the audit sealed, and
    it stays so for `stable_for` seconds (the worker's follow-ups, e.g. incidents, write audit events after
    the posts are in)."""
    start, since = time.monotonic(), None
    while time.monotonic() - start < timeout:
        try:
            done = len(stored_keys(engine, keys)) == len(keys) and pending_inbox(engine) == 0
            done = done and (not want_sealed or unsealed(engine) == 0)
        except Exception:  # the database may still be coming back
            done = False
        now = time.monotonic()
        since = (since or now) if done else None
        if since is not None and now - since >= stable_for:
            return since - start
        time.sleep(0.2)
    return time.monotonic() - start


DUPLICATES_SQL = {
    # one routing decision per inbound post
    "decisions": "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT count(*) AS n FROM routing_decisions "
    "GROUP BY post_id HAVING count(*) > 1) d",
    # one routed event and at most one case opened per post
    "routed_events": "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT count(*) AS n FROM audit_events "
    "WHERE action = 'case.routed' GROUP BY details->>'post_id' HAVING count(*) > 1) d",
    "cases_opened": "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT count(*) AS n FROM audit_events "
    "WHERE action = 'case.created' GROUP BY details->>'post_id' HAVING count(*) > 1) d",
    "inbox": "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT count(*) AS n FROM inbox_events "
    "GROUP BY source, delivery_key HAVING count(*) > 1) d",
}
UNROUTED_SQL = (
    "SELECT count(*) FROM posts p WHERE p.direction = 'inbound' AND p.case_id IS NOT NULL "
    "AND NOT p.removed AND NOT EXISTS (SELECT 1 FROM routing_decisions d WHERE d.post_id = p.id)"
)


def measure(row: Row, engine: Engine, keys: set[Key]) -> Row:
    from workers.audit import verify_chain

    row.posts_in = len(keys)
    row.stored = len(stored_keys(engine, keys))
    with engine.connect() as conn:
        found = {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in DUPLICATES_SQL.items()}
        row.unrouted = int(conn.execute(text(UNROUTED_SQL)).scalar_one())
    row.duplicates = sum(found.values())
    row.notes += [f"duplicate {k}: {v}" for k, v in found.items() if v]
    row.pending_inbox = pending_inbox(engine)
    row.unsealed_audit = unsealed(engine)
    _, broken = verify_chain(engine)
    row.audit_chain_ok = broken is None
    if broken:
        row.notes.append(str(broken))
    for check in EFFECT_CHECKS:
        figures = check(engine)
        row.timers_missed = (row.timers_missed or 0) + figures.get("timers_missed", 0)
        row.duplicates += figures.get("duplicate_pages", 0)
    return row


HEADER = (
    "fault",
    "posts in",
    "posts stored",
    "duplicates",
    "timers missed",
    "unrouted",
    "retried",
    "recovery s",
)


def table(rows: Iterable[Row]) -> str:
    rows = list(rows)
    lines = [HEADER]
    for r in rows:
        timers = "n/a" if r.timers_missed is None else str(r.timers_missed)
        lines.append(
            (
                r.fault,
                str(r.posts_in),
                str(r.stored),
                str(r.duplicates),
                timers,
                str(r.unrouted),
                str(r.retried_requests),
                f"{r.recovery_s:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    notes = [f"  {r.fault}: {n}" for r in rows for n in (*[f"PROBLEM: {p}" for p in r.problems], *r.notes)]
    footer = [
        "",
        "timers missed: SLA stages owed more than 30 s that never fired; duplicates include repeated",
        "escalations and pages (workers.timers.missed_and_duplicates via EFFECT_CHECKS; n/a without it)",
    ]
    return "\n".join(out + (["", "notes:", *notes] if notes else []) + footer) + "\n"


def write_artifact(rows: list[Row], header: str = "") -> Path:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text((header + "\n" if header else "") + table(rows))
    return ARTIFACT
