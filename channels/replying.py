"""Send a reply through a channel and record it as the brand's response on the case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from channels.base import Author, Direction, InboundPost, ReplyingAdapter


class Ingests(Protocol):
    def ingest(self, posts: Sequence[InboundPost], *, source: str) -> Any: ...


async def reply_and_record(
    *,
    adapter: ReplyingAdapter,
    ingestor: Ingests,
    to: InboundPost,
    text: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> InboundPost:
    """Publish `text` as a reply to `to`, then ingest it as an OUTBOUND post replying to `to`.

    Ingest joins it to `to`'s case, which stops the first-response clock. When the platform later
    echoes our reply (X Account Activity, the Page feed) it has the same id and is a duplicate.
    """
    new_id = await adapter.reply(to.platform_id, text, conversation_id=to.conversation_id)
    sent = InboundPost(
        channel=to.channel,
        platform_id=new_id,
        account=to.account,
        author=Author(handle=to.account),
        text=text,
        created_at=clock(),
        in_reply_to=to.platform_id,
        conversation_id=to.conversation_id,
        direction=Direction.OUTBOUND,
        raw={"sent_by": "engage-router"},
    )
    await asyncio.to_thread(ingestor.ingest, [sent], source=f"reply:{to.channel}")
    return sent
