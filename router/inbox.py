"""The inbox drainer: deliveries the webhook endpoints stored (and answered 200 for) are ingested
in arrival order by one drainer per router process. Deliveries that queue up while a transaction
runs go into the next one together, so a burst costs a few large transactions, not one per request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from channels.base import InboundPost
from router import dead_letter
from router.ingest import Ingestor
from router.models import InboxEvent
from router.timeutil import utcnow

log = logging.getLogger(__name__)

Normalize = Callable[[Mapping[str, Any]], Sequence[InboundPost]]
RunBlocking = Callable[..., Any]

MAX_POSTS_PER_TRANSACTION = 1000
RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Delivery:
    event_id: int
    source: str
    posts: Sequence[InboundPost] | None = None  # None: read and normalize the stored body


def transient(exc: BaseException | None) -> bool:
    """The database is away (restarting, failing over, locked), not the delivery at fault; also
    when that surfaced as a follow-on error (a session that must roll back) while handling it."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def keep_bad(engine: Engine, source: str, reason: str, raw: bytes) -> None:
    with Session(engine) as session:
        dead_letter.keep(
            session, source=f"webhook:{source}", reason=reason, payload=raw.decode("utf-8", "replace")
        )
        session.commit()


def pending_deliveries(engine: Engine) -> list[Delivery]:
    """Deliveries stored but not processed (the last process stopped before it got to them)."""
    query = (
        select(InboxEvent.id, InboxEvent.source)
        .where(col(InboxEvent.processed_at).is_(None))
        .order_by(col(InboxEvent.id))
    )
    with Session(engine) as session:
        return [Delivery(event_id, source) for event_id, source in session.exec(query).all() if event_id]


class InboxProcessor:
    """The blocking part: ingest a run of deliveries and mark them processed."""

    def __init__(self, engine: Engine, ingestor: Ingestor, normalizer: Callable[[str], Normalize]) -> None:
        self._engine, self._ingestor, self._normalizer = engine, ingestor, normalizer

    def process(self, deliveries: Sequence[Delivery]) -> None:
        """A database outage raises (the deliveries stay pending and are retried); a delivery that
        fails for any other reason is marked processed with its error and kept as a dead letter."""
        ready, errors = self._read(deliveries)
        try:
            self._ingest(ready)
        except Exception as exc:
            if transient(exc):
                raise
            if len(ready) > 1:  # find the delivery at fault: one at a time
                log.warning("a run of %d deliveries failed; retrying one by one", len(ready))
                for delivery in ready:
                    self.process([delivery])
                ready = []
            else:
                (delivery,) = ready
                log.error(
                    "processing %s delivery %s failed", delivery.source, delivery.event_id, exc_info=exc
                )
                errors[delivery.event_id] = f"{type(exc).__name__}: {exc}"
                with Session(self._engine) as session:
                    body = session.get_one(InboxEvent, delivery.event_id).body
                keep_bad(self._engine, delivery.source, errors[delivery.event_id], body)
                ready = []
        self._mark(ready, errors)

    def _ingest(self, ready: Sequence[Delivery]) -> None:
        # Consecutive deliveries of one source share a transaction; arrival order is kept.
        for source, run in groupby(ready, key=lambda d: d.source):
            batch = list(run)
            posts = [post for d in batch for post in d.posts or ()]
            result = self._ingestor.ingest(posts, source=f"webhook:{source}")
            log.info(
                "%s deliveries %s: %s stored, %s duplicates",
                source,
                [d.event_id for d in batch],
                result.stored,
                result.duplicates,
            )

    def _read(self, deliveries: Sequence[Delivery]) -> tuple[list[Delivery], dict[int, str]]:
        """Normalized posts for each delivery; those recovered from the inbox are read and
        normalized here (their errors are recorded, not raised)."""
        stored = [d.event_id for d in deliveries if d.posts is None]
        bodies: dict[int, bytes] = {}
        if stored:
            with Session(self._engine) as session:
                rows = session.exec(
                    select(InboxEvent.id, InboxEvent.body).where(
                        col(InboxEvent.id).in_(stored), col(InboxEvent.processed_at).is_(None)
                    )
                ).all()
                bodies = {event_id: body for event_id, body in rows if event_id is not None}
        ready: list[Delivery] = []
        errors: dict[int, str] = {}
        for delivery in deliveries:
            if delivery.posts is not None:
                ready.append(delivery)
            elif delivery.event_id in bodies:  # otherwise another process got there first
                body = bodies[delivery.event_id]
                try:
                    posts = self._normalizer(delivery.source)(json.loads(body))
                except Exception as exc:  # stored before this check existed, or the rules changed
                    errors[delivery.event_id] = f"{type(exc).__name__}: {exc}"[:500]
                    keep_bad(self._engine, delivery.source, errors[delivery.event_id], body)
                    continue
                ready.append(Delivery(delivery.event_id, delivery.source, posts))
        return ready, errors

    def _mark(self, done: Sequence[Delivery], errors: Mapping[int, str]) -> None:
        now = utcnow()
        with Session(self._engine) as session:
            if done:
                session.execute(
                    update(InboxEvent)
                    .where(col(InboxEvent.id).in_([d.event_id for d in done]))
                    .values(processed_at=now)
                )
            for event_id, error in errors.items():
                session.execute(
                    update(InboxEvent)
                    .where(col(InboxEvent.id) == event_id)
                    .values(processed_at=now, error=error)
                )
            session.commit()


class Inbox:
    """One drainer task per router process, fed by the webhook endpoints after they store a
    delivery. Deliveries that wait while a transaction runs are taken together into the next."""

    def __init__(self, processor: InboxProcessor, run_blocking: RunBlocking) -> None:
        self._processor, self._run_blocking = processor, run_blocking
        self._waiting: deque[Delivery] = deque()
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def put(self, delivery: Delivery) -> None:
        self._waiting.append(delivery)
        self._idle.clear()
        self._arrived.set()
        if self._task is None:
            self._task = asyncio.create_task(self._drain())

    async def idle(self) -> None:
        """Until every delivery put so far has been processed (tests, shutdown)."""
        await self._idle.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _take(self) -> list[Delivery]:
        taken: list[Delivery] = []
        count = 0
        while self._waiting and (not taken or count < MAX_POSTS_PER_TRANSACTION):
            delivery = self._waiting.popleft()
            taken.append(delivery)
            count += len(delivery.posts) if delivery.posts is not None else 100
        return taken

    async def _drain(self) -> None:
        while True:
            if not self._waiting:
                self._idle.set()
                self._arrived.clear()
                await self._arrived.wait()
                continue
            await self._process_until_done(self._take())

    async def _process_until_done(self, deliveries: list[Delivery]) -> None:
        for attempt in itertools.count():
            try:
                await self._run_blocking(self._processor.process, deliveries)
                return
            except Exception as exc:
                if not transient(exc):
                    log.exception("deliveries %s could not be processed; they stay pending", deliveries)
                    return
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                log.warning("inbox: database unavailable (%s); retrying in %s s", exc, delay)
                await asyncio.sleep(delay)
