"""Hostile input against the real app on 127.0.0.1: every channel secret configured, one user per
role with an API token, and a counter of fuzz cases tried that is printed at the end of the run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlmodel import Session

from channels.settings import FacebookSettings, XSettings
from channels.signed_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from router.app import create_app
from router.ingest import Ingestor
from router.roles import Role
from router.services import Services
from router.settings import Settings
from router.users import create_user
from tests.router.doubles import KeywordRouter

X_SECRET, FB_SECRET, INGEST_SECRET = "fuzz-x-secret", "fuzz-fb-secret", "fuzz-ingest-secret"
BRAND_ID, PAGE_ID = "783214", "448242228374517"
SOURCE = "fuzzsrc"

CASES_TRIED: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES_TRIED:
        total = sum(CASES_TRIED.values())
        terminalreporter.write_line(f"fuzz cases tried: {total} " + str(dict(sorted(CASES_TRIED.items()))))


def x_headers(raw: bytes) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(X_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return {"x-twitter-webhooks-signature": f"sha256={digest}", "Content-Type": "application/json"}


def fb_headers(raw: bytes) -> dict[str, str]:
    digest = hmac.new(FB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def ingest_headers(raw: bytes, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {SIGNATURE_HEADER: sign(INGEST_SECRET, ts, raw), TIMESTAMP_HEADER: ts}


SIGNED_ENDPOINTS = {
    "/webhooks/x": x_headers,
    "/webhooks/facebook": fb_headers,
    f"/ingest/{SOURCE}": ingest_headers,
}


class _StaticRules:
    def reload_if_changed(self) -> None:
        return None


@pytest.fixture
def services(engine, monkeypatch: pytest.MonkeyPatch) -> Services:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(f"INGEST_SECRET_{SOURCE.upper()}", INGEST_SECRET)
    settings = Settings(
        _env_file=None,
        x=XSettings(_env_file=None, consumer_secret=SecretStr(X_SECRET), brand_accounts={"acme": BRAND_ID}),
        facebook=FacebookSettings(
            _env_file=None,
            app_secret=SecretStr(FB_SECRET),
            verify_token=SecretStr("verify-me"),
            page_id=PAGE_ID,
            page_name="acme",
        ),
    )
    svc = Services(settings=settings, engine=engine)
    svc.__dict__["ingestor"] = Ingestor(engine=engine, router=KeywordRouter())
    svc.__dict__["rules"] = _StaticRules()
    return svc


@dataclass
class Served:
    server: TestServer
    http: aiohttp.ClientSession
    tokens: dict[Role, str] = field(default_factory=dict)

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest_asyncio.fixture
async def served(services: Services, engine) -> AsyncIterator[Served]:  # type: ignore[no-untyped-def]
    tokens: dict[Role, str] = {}
    with Session(engine) as session:
        for role in Role:
            _, tokens[role] = create_user(session, name=f"fuzz-{role.value}", role=role)
        session.commit()
    app = create_app(services)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession(str(server.make_url("/"))) as http,
    ):
        yield Served(server, http, tokens)
