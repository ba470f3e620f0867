"""Data protection: erasing a person on request, and purging raw payloads past retention.

Erasure keeps every timestamp, count and link, so reports stay correct, and touches no sealed
audit event (they hold ids and digests, never a person's words), so the chain still verifies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from router import audit
from router.models import Case, DeadLetter, InboxEvent, Post

REDACTED_TEXT = "[erased on request]"


def pseudonym(handle: str) -> str:
    """Stable, so the author's history still counts as one person's, but not reversible."""
    return "erased-" + hashlib.sha256(handle.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    posts: int
    cases: int
    dead_letters: int
    webhook_bodies: int


def erase_author(engine: Engine, *, handle: str, actor: str, channel: str | None = None) -> ErasureReport:
    alias = pseudonym(handle)
    needle = handle.encode()
    with Session(engine) as session:
        post_filter = [col(Post.author_handle) == handle] + (
            [col(Post.channel) == channel] if channel else []
        )
        posts = session.exec(
            update(Post)
            .where(*post_filter)
            .values(
                text=REDACTED_TEXT,
                author_handle=alias,
                author_name=None,
                author_platform_id=None,
                url=None,
                raw=None,
            )
        ).rowcount
        case_filter = [col(Case.author_handle) == handle] + (
            [col(Case.channel) == channel] if channel else []
        )
        cases = session.exec(update(Case).where(*case_filter).values(author_handle=alias)).rowcount
        letters = session.exec(delete(DeadLetter).where(col(DeadLetter.payload).contains(handle))).rowcount
        bodies = 0
        for event in session.exec(select(InboxEvent).where(col(InboxEvent.processed_at).is_not(None))).all():
            if needle in event.body:
                event.body = b"{}"
                session.add(event)
                bodies += 1
        audit.record(
            session,
            action="privacy.erased",
            actor=actor,
            subject=alias,
            channel=channel,
            posts=posts,
            cases=cases,
            dead_letters=letters,
            webhook_bodies=bodies,
        )
        session.commit()
    return ErasureReport(posts, cases, letters, bodies)


def purge_raw_payloads(engine: Engine, *, older_than: datetime) -> tuple[int, int]:
    """Drop platform payloads kept for debugging once they are past retention. Returns
    (posts whose raw payload was dropped, processed webhook deliveries deleted)."""
    with Session(engine) as session:
        posts = session.exec(
            update(Post)
            .where(col(Post.ingested_at) < older_than, col(Post.raw).is_not(None))
            .values(raw=None)
        ).rowcount
        deliveries = session.exec(
            delete(InboxEvent).where(
                col(InboxEvent.processed_at).is_not(None), col(InboxEvent.received_at) < older_than
            )
        ).rowcount
        if posts or deliveries:
            audit.record(
                session,
                action="privacy.retention_purge",
                posts=posts,
                deliveries=deliveries,
                older_than=older_than.isoformat(),
            )
        session.commit()
    return posts, deliveries
