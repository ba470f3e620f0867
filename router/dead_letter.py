"""Dead letters: input we could not process, kept whole with its place so it can be replayed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from router.models import DeadLetter


def keep(
    session: Session, *, source: str, reason: str, payload: str, location: str | None = None
) -> DeadLetter:
    letter = DeadLetter(source=source, location=location, reason=reason, payload=payload)
    session.add(letter)
    return letter


def recent(session: Session, *, limit: int = 50, include_replayed: bool = False) -> Sequence[DeadLetter]:
    query = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    if not include_replayed:
        query = query.where(col(DeadLetter.replayed_at).is_(None))
    return session.exec(query).all()
