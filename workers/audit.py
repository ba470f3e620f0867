"""The audit writer: seals appended events, in batches, into a SHA-256 hash chain; and checks it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from router.db import get_engine
from router.models import AuditEvent

GENESIS = "0" * 64
SEAL_BATCH = 2000
SEAL_LOCK = 73_310_001  # PostgreSQL advisory lock key: one sealer at a time across workers


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    body = json.dumps(
        {
            "seq": event.seq,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "action": event.action,
            "case_id": event.case_id,
            "details": event.details,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def seal_pending(engine: Engine | None = None, batch: int = SEAL_BATCH) -> int:
    """Seal every unsealed event, oldest first. Returns how many were sealed."""
    engine = engine or get_engine()
    sealed = 0
    while True:
        with Session(engine) as session:
            # One sealer at a time. On SQLite, writers serialize anyway and the unique `seq`
            # makes a racing sealer fail and retry rather than fork the chain.
            if engine.dialect.name == "postgresql":
                session.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
            last = session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.seq).is_not(None))
                .order_by(col(AuditEvent.seq).desc())
            ).first()
            pending = session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.seq).is_(None))
                .order_by(col(AuditEvent.id))
                .limit(batch)
            ).all()
            if not pending:
                return sealed
            seq, prev = (last.seq or 0, last.hash or GENESIS) if last else (0, GENESIS)
            for event in pending:
                seq += 1
                event.seq, event.prev_hash = seq, prev
                event.hash = prev = event_hash(event, prev)
                session.add(event)
            session.commit()
            sealed += len(pending)
            if len(pending) < batch:
                return sealed


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        return f"audit chain broken at seq {self.seq} (event id {self.event_id}): {self.problem}"


def _sealed(session: Session, page: int = 5000) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(col(AuditEvent.seq) > after).order_by(col(AuditEvent.seq)).limit(page)
        ).all()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].seq or after


def verify_chain(engine: Engine | None = None) -> tuple[int, ChainBreak | None]:
    """Walk the chain; name the first event that was altered, removed or inserted."""
    engine = engine or get_engine()
    checked, prev, expected_seq = 0, GENESIS, 1
    with Session(engine) as session:
        for event in _sealed(session):
            if event.seq != expected_seq:
                return checked, ChainBreak(
                    expected_seq, None, f"event seq {expected_seq} is missing (removed); next is {event.seq}"
                )
            if event.prev_hash != prev:
                return checked, ChainBreak(
                    event.seq, event.id, "prev_hash does not match: inserted or reordered"
                )
            if event_hash(event, prev) != event.hash:
                return checked, ChainBreak(event.seq, event.id, "content does not match its hash: altered")
            prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return checked, None


def export_jsonl(engine: Engine, *, since: datetime | None = None) -> Iterator[str]:
    """Sealed events in chain order as JSON lines, with what verification needs (seq and hashes)."""
    with Session(engine) as session:
        for event in _sealed(session):
            if since is not None and event.at < since:
                continue
            yield json.dumps(
                {
                    "seq": event.seq,
                    "at": event.at.isoformat(),
                    "actor": event.actor,
                    "action": event.action,
                    "case_id": event.case_id,
                    "details": event.details,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
                ensure_ascii=False,
                sort_keys=True,
                default=str,
            )
