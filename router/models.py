"""The stored domain: posts, the cases they form, routing decisions, audit events, dead letters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from router.timeutil import UTCDateTime, utcnow

JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER keys
_LIVE = text("merged_into_id IS NULL AND first_inbound_at IS NOT NULL")  # the cases reports cover


def _gin(name: str, column: str, ops: str) -> Index:
    """A GIN index, PostgreSQL only (migration 0006_queue_search; trigrams need pg_trgm)."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: ops}).ddl_if(
        dialect="postgresql"
    )


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"  # on the customer: we answered last
    RESOLVED = "resolved"
    MERGED = "merged"  # folded into another case when a thread turned out to be one


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class Post(SQLModel, table=True):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id", name="uq_posts_channel_platform_id"),
        Index("ix_posts_channel_in_reply_to", "channel", "in_reply_to"),
        Index("ix_posts_case_id_created_at", "case_id", "created_at"),
        Index("ix_posts_author_handle", "channel", "author_handle"),
        # reports: the period's posts and each case's turns from the index alone (0005_report_speed)
        Index("ix_posts_report_period", "created_at", "case_id", "direction", "removed", "id"),
        _gin("ix_posts_text_trgm", "text", "gin_trgm_ops"),  # queue search: ILIKE '%word%'
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    channel: str = Field(max_length=40)
    platform_id: str = Field(max_length=200)
    account: str = Field(max_length=200)
    author_handle: str = Field(max_length=200)
    author_platform_id: str | None = Field(default=None, max_length=100)
    author_name: str | None = Field(default=None, max_length=300)
    author_followers: int = 0
    author_verified: bool = False
    text: str = Field(default="", sa_type=Text)
    lang: str | None = Field(default=None, max_length=16)
    created_at: datetime = _utc()
    url: str | None = Field(default=None, max_length=2000)
    in_reply_to: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)
    direction: str = Field(max_length=10)
    removed: bool = False
    edited_at: datetime | None = _utc(default=None)
    raw: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    case_id: int | None = Field(default=None, sa_type=BigId, foreign_key="cases.id")
    ingested_at: datetime = _utc(default_factory=utcnow)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_author", "channel", "author_handle", "created_at"),
        Index("ix_cases_status_next_due", "status", "next_due_at"),
        Index("ix_cases_report_period", "first_inbound_at"),  # reports: cases per period
        # reports' backlog: open and recently resolved/answered live cases (0005_report_speed)
        Index("ix_cases_report_resolved", "resolved_at", postgresql_where=_LIVE, sqlite_where=_LIVE),
        Index("ix_cases_report_answered", "first_response_at", postgresql_where=_LIVE, sqlite_where=_LIVE),
        # the queue's filters: one ordered walk each, most urgent first (router/web/casequery.py)
        Index("ix_cases_status_queue_due", "status", "queue", "next_due_at"),
        Index("ix_cases_status_channel_due", "status", "channel", "next_due_at"),
        Index("ix_cases_status_account_due", "status", "account", "next_due_at"),
        Index("ix_cases_status_priority_due", "status", "priority", "next_due_at"),
        Index("ix_cases_status_assignee_due", "status", "assignee", "next_due_at"),
        _gin("ix_cases_tags", "tags", "jsonb_path_ops"),  # tag filter: tags @> '["x"]'
        _gin("ix_cases_author_trgm", "author_handle", "gin_trgm_ops"),  # queue search
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    channel: str = Field(max_length=40)
    account: str = Field(max_length=200)
    author_handle: str = Field(max_length=200)
    queue: str = Field(max_length=40)
    priority: int = 3
    status: str = Field(default=CaseStatus.NEW, max_length=20)
    assignee: str | None = Field(default=None, max_length=200)
    sla_policy: str = Field(max_length=80)
    ruleset_version: str = Field(max_length=80)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    risk: float = 0.0
    page_pr: bool = False
    needs_approval: bool = False
    first_post_id: int | None = Field(default=None, sa_type=BigId)
    first_inbound_at: datetime | None = _utc(default=None)
    first_response_at: datetime | None = _utc(default=None)
    last_inbound_at: datetime | None = _utc(default=None)
    last_response_at: datetime | None = _utc(default=None)
    first_response_due_at: datetime | None = _utc(default=None)
    next_response_due_at: datetime | None = _utc(default=None)
    resolution_due_at: datetime | None = _utc(default=None)
    resolved_at: datetime | None = _utc(default=None)
    # SLA: the version of the policy the case started under, the periods its clocks were paused
    # (waiting on the customer: [[start, end-or-null], …] as ISO strings), and the earliest due
    # time still running, which orders the queue.
    sla_policy_version: str | None = Field(default=None, max_length=80)
    sla_pauses: list[list[str | None]] = Field(default_factory=list, sa_type=JSONType)
    next_due_at: datetime | None = _utc(default=None)
    merged_into_id: int | None = Field(default=None, sa_type=BigId)
    created_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)


class RoutingDecision(SQLModel, table=True):
    __tablename__ = "routing_decisions"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    case_id: int = Field(sa_type=BigId, foreign_key="cases.id", index=True)
    post_id: int = Field(sa_type=BigId, foreign_key="posts.id")
    ruleset_version: str = Field(max_length=80)
    queue: str = Field(max_length=40)
    priority: int
    sla_policy: str = Field(max_length=80)
    matched: list[str] = Field(default_factory=list, sa_type=JSONType)
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = _utc(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only. Written unsealed in the business transaction; the audit worker seals them
    in batches into a hash chain (seq, prev_hash, hash)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_action", "case_id", "action", "at"),)  # case timelines

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    at: datetime = _utc(default_factory=utcnow)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=60, index=True)
    case_id: int | None = Field(default=None, sa_type=BigId, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True, nullable=True))
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class DeadLetter(SQLModel, table=True):
    """Input we could not process, kept whole so it can be fixed and replayed."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    source: str = Field(max_length=200, index=True)
    location: str | None = Field(default=None, max_length=500)
    reason: str = Field(sa_type=Text)
    payload: str = Field(sa_type=Text)
    created_at: datetime = _utc(default_factory=utcnow)
    replayed_at: datetime | None = _utc(default=None)


class InboxEvent(SQLModel, table=True):
    """A verified webhook delivery, stored before we answer 200 and processed afterwards."""

    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("source", "delivery_key", name="uq_inbox_source_key"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    source: str = Field(max_length=60)
    delivery_key: str = Field(max_length=128, description="sha256 of the body: a repeat is a duplicate")
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = _utc(default_factory=utcnow)
    processed_at: datetime | None = _utc(default=None, index=True)
    error: str | None = Field(default=None, sa_type=Text)


class Checkpoint(SQLModel, table=True):
    """Where a poller got to (e.g. X since_id per query), so a restart neither loses nor repeats."""

    __tablename__ = "checkpoints"

    key: str = Field(sa_column=Column(String(300), primary_key=True))
    value: str = Field(max_length=500)
    updated_at: datetime = _utc(default_factory=utcnow)
