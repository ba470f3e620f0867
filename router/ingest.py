"""The ingest pipeline: normalize → deduplicate → join the conversation → route → store case,
decision and audit event in one transaction → schedule follow-up work after commit."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from channels.base import Direction, InboundPost
from router import audit, dead_letter, metrics, threads
from router.batch_ingest import NeedsCarefulPath, ingest_batch, post_row
from router.models import Case, CaseStatus, Post, RoutingDecision
from router.routing import Router, decision_row, route, routed_details
from router.sla.clock import apply_due_times, update_pauses
from router.sla.policy import SlaConfig
from router.timeutil import utcnow
from rules.facts import PostFacts

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    updated: int = 0
    failed: int = 0
    changed_case_ids: set[int] = field(default_factory=set)
    stored_by: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, direction)

    def add(self, other: IngestResult) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.failed += other.failed
        self.changed_case_ids |= other.changed_case_ids
        self.stored_by.update(other.stored_by)


AfterCommit = Callable[[IngestResult], None]


class Ingestor:
    """Stores and routes posts. One transaction per batch; one savepoint per post, so a post
    that fails goes to dead-letter without taking its batch down."""

    def __init__(
        self,
        *,
        engine: Engine,
        router: Router,
        after_commit: AfterCommit | None = None,
        sla: SlaConfig | None = None,
    ) -> None:
        self._engine = engine
        self._router = router
        self._after_commit = after_commit
        self._sla = sla  # without it, cases get no due times

    def ingest(self, posts: Sequence[InboundPost], *, source: str) -> IngestResult:
        result = self._ingest_fast(posts) or self._ingest_carefully(posts, source=source)
        for (channel, direction), count in result.stored_by.items():
            metrics.POSTS_INGESTED.labels(channel, direction).inc(count)
        if self._after_commit and (result.stored or result.updated):
            self._after_commit(result)
        return result

    def _ingest_fast(self, posts: Sequence[InboundPost]) -> IngestResult | None:
        """The whole batch set-based, in one transaction; None when it needs the careful path."""
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                done = ingest_batch(session, list(posts), self._router, self._sla)
        except NeedsCarefulPath as why:
            log.debug("batch takes the careful path: %s", why)
            return None
        except Exception:  # e.g. a concurrent insert of the same post: the careful path sorts it out
            log.info("fast ingest path failed; retrying post by post", exc_info=True)
            return None
        return IngestResult(
            received=len(posts),
            stored=done.stored,
            duplicates=done.duplicates,
            changed_case_ids=done.case_ids,
            stored_by=Counter(done.stored_by),
        )

    def _ingest_carefully(self, posts: Sequence[InboundPost], *, source: str) -> IngestResult:
        """Post by post, each in a savepoint: handles every shape, and a post that fails is
        dead-lettered without taking its batch down."""
        result = IngestResult(received=len(posts))
        with Session(self._engine, expire_on_commit=False) as session:
            for post in posts:
                try:
                    with session.begin_nested():
                        outcome = IngestResult()
                        self._ingest_one(session, post, outcome)
                    result.add(outcome)  # counted only once its savepoint holds
                except IntegrityError:
                    # Another process stored the same post between our check and insert.
                    result.duplicates += 1
                except Exception as exc:  # one bad post must not block the rest: keep it for replay
                    log.exception("ingest failed for %s:%s", post.channel, post.platform_id)
                    result.failed += 1
                    metrics.DEAD_LETTERS.labels(source.split(":", 1)[0]).inc()
                    with session.begin_nested():
                        dead_letter.keep(
                            session,
                            source=source,
                            location=f"{post.channel}:{post.platform_id}",
                            reason=f"{type(exc).__name__}: {exc}",
                            payload=post.model_dump_json(),
                        )
            session.commit()
        return result

    def dead_letter(self, *, source: str, reason: str, payload: str, location: str | None = None) -> None:
        """Keep input that never became a post (a malformed row, a bad payload) for replay."""
        with Session(self._engine) as session:
            dead_letter.keep(session, source=source, location=location, reason=reason, payload=payload)
            session.commit()
        metrics.DEAD_LETTERS.labels(source.split(":", 1)[0]).inc()

    def ingest_stream(self, posts: Iterable[InboundPost], *, source: str, batch_size: int) -> IngestResult:
        total, batch = IngestResult(), []
        for post in posts:
            batch.append(post)
            if len(batch) >= batch_size:
                total.add(self.ingest(batch, source=source))
                batch = []
        if batch:
            total.add(self.ingest(batch, source=source))
        return total

    def _ingest_one(self, session: Session, inbound: InboundPost, result: IngestResult) -> None:
        existing = session.exec(
            select(Post).where(Post.channel == inbound.channel, Post.platform_id == inbound.platform_id)
        ).first()
        if existing is not None:
            if _apply_change(session, existing, inbound, self._sla):
                result.updated += 1
                if existing.case_id:
                    result.changed_case_ids.add(existing.case_id)
            else:
                result.duplicates += 1
            return

        post = Post(**post_row(inbound))
        session.add(post)
        session.flush()
        result.stored += 1
        result.stored_by[(post.channel, post.direction)] += 1
        case = self._join_case(session, post)
        if case is None:
            audit.record(
                session,
                action="post.ingested",
                post_id=post.id,
                platform_id=post.platform_id,
                channel=post.channel,
                direction=post.direction,
                case=None,
            )
            return
        assert case.id is not None
        result.changed_case_ids.add(case.id)
        if self._sla is not None:
            update_pauses(case, post.direction, post.created_at)
        if post.direction == Direction.INBOUND and not post.removed:
            self._route(session, case, post)
        else:
            audit.record(
                session,
                action="post.ingested",
                case_id=case.id,
                post_id=post.id,
                platform_id=post.platform_id,
                channel=post.channel,
                direction=post.direction,
            )
        if self._sla is not None:
            apply_due_times(case, self._sla, utcnow())
            session.add(case)

    def _join_case(self, session: Session, post: Post) -> Case | None:
        if threads.is_broadcast(post) or post.removed:
            return None  # a removal of a post we never saw is kept, but is nothing to answer

        parent, children, cases = threads.related_cases(session, post)
        if cases:
            case = cases[0]
            for other in cases[1:]:
                threads.merge(session, into=case, other=other)
        elif post.direction == Direction.INBOUND:
            case = Case(
                channel=post.channel,
                account=post.account,
                author_handle=post.author_handle,
                queue="",
                sla_policy="",
                ruleset_version="",
                status=CaseStatus.NEW,
            )
            session.add(case)
            session.flush()
            audit.record(session, action="case.created", case_id=case.id, post_id=post.id)
        else:
            return None  # our reply to a post we have not seen yet; its case adopts it later
        post.case_id = case.id
        session.add(post)
        threads.adopt_orphans(session, case, parent, children)
        if post.direction == Direction.INBOUND and case.status == CaseStatus.RESOLVED:
            case.status = CaseStatus.OPEN
            case.resolved_at = None
            audit.record(session, action="case.reopened", case_id=case.id, post_id=post.id)
        threads.refresh_case_times(session, case)
        return case

    def _route(self, session: Session, case: Case, post: Post) -> None:
        history, known_customer = threads.author_history(session, case, post)
        facts = PostFacts(
            text=post.text,
            channel=post.channel,
            account=post.account,
            author_handle=post.author_handle,
            created_at=post.created_at,
            author_followers=post.author_followers,
            author_verified=post.author_verified,
            lang=post.lang,
            thread=threads.thread_facts(session, case, post),
            history=history,
            known_customer=known_customer,
        )
        with metrics.ROUTING_SECONDS.time():
            decision = self._router.decide(facts)
        is_new = route(case, decision)
        session.add(case)
        session.flush()
        assert case.id is not None and post.id is not None
        session.add(RoutingDecision(**decision_row(case.id, post.id, decision, utcnow())))
        details = routed_details(
            post_id=post.id,
            platform_id=post.platform_id,
            channel=post.channel,
            case=case,
            decision=decision,
            is_new=is_new,
        )
        audit.record(session, action="case.routed", case_id=case.id, **details)


def _apply_change(session: Session, row: Post, post: InboundPost, sla: SlaConfig | None) -> bool:
    """An edit or a removal of a post we have; anything else is a repeat delivery."""
    if post.removed and not row.removed:
        row.removed = True
        session.add(row)
        audit.record(session, action="post.removed", case_id=row.case_id, post_id=row.id)
        if row.case_id and (case := threads.live_case(session, row.case_id)):
            threads.refresh_case_times(session, case)
            if sla is not None:
                apply_due_times(case, sla, utcnow())
        return True
    if not post.removed and post.text != row.text and post.text:
        audit.record(  # the chain is permanent, so it keeps a digest of the old text, never the text
            session,
            action="post.edited",
            case_id=row.case_id,
            post_id=row.id,
            previous_text_sha256=hashlib.sha256(row.text.encode()).hexdigest(),
        )
        row.text = post.text
        row.edited_at = utcnow()
        session.add(row)
        return True
    return False
