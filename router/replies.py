"""Replies: drafted on a case, approved when the case needs it, sent through the channel's adapter,
and recorded as the brand's outbound post only once the platform accepted them."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiohttp import web
from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, col, select

from channels.base import Author, ChannelError, Direction, InboundPost, ReplyingAdapter
from channels.checkpoints import InMemoryCheckpointStore
from channels.registry import replier_for
from channels.settings import ChannelConfig
from router import audit, threads
from router.errors import ApiError
from router.models import BigId, Case, Post
from router.roles import can_approve
from router.runtime import SERVICES, run_blocking
from router.timeutil import UTCDateTime, utcnow
from router.users import Principal
from router.web.xtext import MAX_WEIGHTED_LENGTH, weighted_length

log = logging.getLogger(__name__)

CHARACTER_LIMITS = {"facebook": 8000, "messenger": 2000}
DEFAULT_LIMIT = 10_000


class ReplyStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # a draft: nothing leaves until an approver approves
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # shown on the case, can be retried
    REJECTED = "rejected"


class Reply(SQLModel, table=True):
    __tablename__ = "case_replies"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    case_id: int = Field(sa_type=BigId, foreign_key="cases.id", index=True)
    author: str = Field(max_length=200)
    text: str = Field(max_length=10_000)
    status: str = Field(max_length=20)
    in_reply_to_post_id: int = Field(sa_type=BigId, foreign_key="posts.id")
    platform_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "author": self.author,
            "text": self.text,
            "status": self.status,
            "platform_id": self.platform_id,
            "error": self.error,
            "attempts": self.attempts,
            "approved_by": self.approved_by,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


class Repliers:
    """Which adapter answers a channel: the channel registry, built from the app's settings (tests
    point those at the fake platforms), one adapter per channel for the app's lifetime."""

    def __init__(self, config: ChannelConfig, overrides: dict[str, ReplyingAdapter] | None = None) -> None:
        self.config = config
        self.adapters: dict[str, ReplyingAdapter | None] = dict(overrides or {})

    def for_channel(self, channel: str) -> ReplyingAdapter | None:
        if channel not in self.adapters:
            self.adapters[channel] = replier_for(channel, self.config, InMemoryCheckpointStore())
        return self.adapters[channel]

    async def aclose(self) -> None:
        for adapter in self.adapters.values():
            close = getattr(adapter, "aclose", None)
            if close is not None:
                await close()


REPLIERS = web.AppKey("repliers", Repliers)


def measure(channel: str, text: str) -> tuple[int, int]:
    """(length as the channel counts it, the channel's limit)."""
    if channel == "x":
        return weighted_length(text), MAX_WEIGHTED_LENGTH
    return len(text), CHARACTER_LIMITS.get(channel, DEFAULT_LIMIT)


def replies_for(session: Session, case_id: int) -> list[Reply]:
    return list(session.exec(select(Reply).where(Reply.case_id == case_id).order_by(col(Reply.id))).all())


def _target(session: Session, case: Case, post_id: int | None) -> Post:
    query = select(Post).where(Post.case_id == case.id, col(Post.removed).is_(False))
    if post_id is not None:
        query = query.where(Post.id == post_id)
    else:
        query = query.where(Post.direction == "inbound").order_by(
            col(Post.created_at).desc(), col(Post.id).desc()
        )
    post = session.exec(query).first()
    if post is None:
        raise ApiError(422, "no_target", "there is no post on this case to reply to")
    return post


def draft(
    session: Session, *, case: Case, user: Principal, text: str, in_reply_to_post_id: int | None = None
) -> Reply:
    """A new reply: a draft awaiting approval when the case needs it (and the author cannot
    approve), otherwise ready to send."""
    text = text.strip()
    length, limit = measure(case.channel, text)
    if not text or length > limit:
        raise ApiError(
            422, "bad_length", f"a reply on {case.channel} must be 1..{limit} characters, not {length}"
        )
    target = _target(session, case, in_reply_to_post_id)
    gated = case.needs_approval and not can_approve(user.role)
    reply = Reply(
        case_id=case.id,  # type: ignore[arg-type]
        author=user.name,
        text=text,
        status=ReplyStatus.PENDING_APPROVAL if gated else ReplyStatus.SENDING,
        in_reply_to_post_id=target.id,  # type: ignore[arg-type]
        approved_by=user.name if case.needs_approval and not gated else None,
        approved_at=utcnow() if case.needs_approval and not gated else None,
    )
    session.add(reply)
    session.flush()
    audit.record(
        session,
        action="reply.drafted" if gated else "reply.created",
        actor=user.name,
        case_id=case.id,
        reply_id=reply.id,
        needs_approval=gated,
    )
    return reply


def approve(session: Session, *, reply: Reply, user: Principal) -> None:
    if not can_approve(user.role):
        raise ApiError(403, "forbidden", f"role {user.role} cannot approve replies")
    done = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.status) == ReplyStatus.PENDING_APPROVAL)
        .values(status=ReplyStatus.SENDING, approved_by=user.name, approved_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(409, "not_pending", f"reply {reply.id} is not waiting for approval")
    audit.record(session, action="reply.approved", actor=user.name, case_id=reply.case_id, reply_id=reply.id)


def reject(session: Session, *, reply: Reply, user: Principal, reason: str) -> None:
    if not can_approve(user.role):
        raise ApiError(403, "forbidden", f"role {user.role} cannot reject replies")
    done = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.status) == ReplyStatus.PENDING_APPROVAL)
        .values(status=ReplyStatus.REJECTED, error=reason[:2000] or "rejected")
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(409, "not_pending", f"reply {reply.id} is not waiting for approval")
    audit.record(session, action="reply.rejected", actor=user.name, case_id=reply.case_id, reply_id=reply.id)


def mark_retry(session: Session, *, reply: Reply, user: Principal) -> None:
    """Only a failed send can be tried again; the conditional update stops double sends."""
    done = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.status) == ReplyStatus.FAILED)
        .values(status=ReplyStatus.SENDING, error=None)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(
            409, "not_failed", f"reply {reply.id} is {reply.status}; only a failed send is retried"
        )
    audit.record(session, action="reply.retried", actor=user.name, case_id=reply.case_id, reply_id=reply.id)


def _load_for_send(engine: Any, reply_id: int) -> tuple[Reply, Case, Post]:
    with Session(engine, expire_on_commit=False) as session:
        reply = session.get(Reply, reply_id)
        if reply is None or reply.status != ReplyStatus.SENDING:
            raise ApiError(409, "not_sendable", f"reply {reply_id} is not ready to send")
        session.execute(
            update(Reply).where(col(Reply.id) == reply_id).values(attempts=col(Reply.attempts) + 1)
        )
        session.commit()
        case, post = session.get(Case, reply.case_id), session.get(Post, reply.in_reply_to_post_id)
        assert case is not None and post is not None
        return reply, case, post


def _finish(engine: Any, reply_id: int, *, platform_id: str | None, error: str | None, actor: str) -> Reply:
    with Session(engine, expire_on_commit=False) as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        if platform_id is not None:
            reply.status, reply.platform_id, reply.sent_at, reply.error = (
                ReplyStatus.SENT,
                platform_id,
                utcnow(),
                None,
            )
            _ensure_recorded(session, reply)
        else:
            reply.status, reply.error = ReplyStatus.FAILED, error
        session.add(reply)
        audit.record(
            session,
            action="reply.sent" if platform_id else "reply.failed",
            actor=actor,
            case_id=reply.case_id,
            reply_id=reply.id,
            platform_id=platform_id,
            error=error,
        )
        session.commit()
        return reply


def _ensure_recorded(session: Session, reply: Reply) -> None:
    """The ingest of our outbound post normally joined it to the case; if it could not, join it here."""
    case = threads.live_case(session, reply.case_id)
    target = session.get(Post, reply.in_reply_to_post_id)
    if case is None or target is None:
        return
    row = session.exec(
        select(Post).where(Post.channel == target.channel, Post.platform_id == reply.platform_id)
    ).first()
    if row is None:
        row = Post(
            channel=target.channel,
            platform_id=reply.platform_id or "",
            account=target.account,
            author_handle=target.account,
            text=reply.text,
            created_at=reply.sent_at or utcnow(),
            in_reply_to=target.platform_id,
            conversation_id=target.conversation_id,
            direction=Direction.OUTBOUND,
            raw={"sent_by": reply.author},
        )
    if row.case_id != case.id:
        row.case_id = case.id
        session.add(row)
        threads.refresh_case_times(session, case)


async def send(app: web.Application, *, reply_id: int, actor: str) -> Reply:
    """Publish a reply whose status is `sending`; record it on success, mark it failed otherwise."""
    services = app[SERVICES]
    reply, case, target = await run_blocking(app, _load_for_send, services.engine, reply_id)
    adapter = app[REPLIERS].for_channel(case.channel)
    platform_id, error = None, None
    if adapter is None:
        error = f"channel {case.channel!r} cannot send replies"
    else:
        try:
            platform_id = await adapter.reply(
                target.platform_id, reply.text, conversation_id=target.conversation_id
            )
        except ChannelError as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # the send boundary: whatever broke, the reply stays visible as failed
            log.exception("sending reply %s failed", reply_id)
            error = f"{type(exc).__name__}: {exc}"
    if platform_id is not None:
        sent = InboundPost(
            channel=target.channel,
            platform_id=platform_id,
            account=target.account,
            author=Author(handle=target.account),
            text=reply.text,
            created_at=utcnow(),
            in_reply_to=target.platform_id,
            conversation_id=target.conversation_id,
            direction=Direction.OUTBOUND,
            raw={"sent_by": actor},
        )
        try:  # ingest joins it to the case, recomputes its times and runs the follow-ups (SLA)
            await run_blocking(app, lambda: services.ingestor.ingest([sent], source=f"reply:{case.channel}"))
        except Exception:  # it was sent: _finish records it on the case directly
            log.exception("recording sent reply %s through ingest failed", reply_id)
    return await run_blocking(
        app, lambda: _finish(services.engine, reply_id, platform_id=platform_id, error=error, actor=actor)
    )
