"""Local servers for the pager transports: the aiohttp sink and a real aiosmtpd SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fakes.pager_sink import PagerSink
from workers.paging.base import Page, PageAction, Severity


@dataclass
class Sink:
    fake: PagerSink
    url: str  # with a trailing slash


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[Sink]:
    fake = PagerSink()
    async with TestServer(fake.app(), host="127.0.0.1") as server:
        yield Sink(fake, str(server.make_url("/")))


@dataclass
class MailHandler:
    """Keeps what the SMTP server accepted; refuses recipients listed in `refuse` with their reply."""

    received: list[tuple[str, list[str], Message]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: Any = envelope.original_content or envelope.content
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    handler: MailHandler
    port: int


@pytest_asyncio.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    handler = MailHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="127.0.0.1"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(handler, port)
    finally:
        server.close()
        await server.wait_closed()


def make_page(action: PageAction = PageAction.TRIGGER, **overrides: Any) -> Page:
    fields: dict[str, Any] = {
        "dedup_key": "incident:x:1851230000000000000",
        "action": action,
        "summary": "Legal threat on a thread with 2.1M followers <@channel> & more",
        "severity": Severity.CRITICAL,
        "to": "dana",
        "link": "http://127.0.0.1:8080/cases/42",
        "details": {"case": 42, "risk": 0.93, "terms": "lawyer, lawsuit"},
        "at": datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
    }
    fields.update(overrides)
    return Page(**fields)


@pytest.fixture
def page() -> Page:
    return make_page()
