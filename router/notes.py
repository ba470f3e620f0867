"""Internal notes on a case, and canned responses with placeholders."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from router.models import BigId
from router.timeutil import UTCDateTime, utcnow

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Note(SQLModel, table=True):
    __tablename__ = "case_notes"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    case_id: int = Field(sa_type=BigId, foreign_key="cases.id", index=True)
    author: str = Field(max_length=200)
    text: str = Field(max_length=10_000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CannedResponse(SQLModel, table=True):
    """Text with {placeholders}: {author}, {account}, {agent}, {case_id}."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("name", name="uq_canned_responses_name"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    name: str = Field(max_length=100)
    text: str = Field(max_length=5_000)
    queue: str | None = Field(default=None, max_length=40, description="offered only in this queue")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def notes_for(session: Session, case_id: int) -> list[Note]:
    return list(
        session.exec(select(Note).where(Note.case_id == case_id).order_by(col(Note.created_at))).all()
    )


def canned_for(session: Session, queue: str | None = None) -> list[CannedResponse]:
    query = select(CannedResponse).order_by(col(CannedResponse.name))
    if queue:
        query = query.where((col(CannedResponse.queue).is_(None)) | (CannedResponse.queue == queue))
    return list(session.exec(query).all())


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replace known {placeholders}; unknown ones stay visible so the agent notices them."""
    return PLACEHOLDER.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], template)
