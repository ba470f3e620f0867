"""The queue served for real on 127.0.0.1: the app over a migrated database, the fake X API for
replies, one user per role, and cases made through the real Ingestor with a router double."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlmodel import Session, select

from channels.base import Author, InboundPost
from channels.settings import FacebookSettings, XSettings
from router.app import create_app
from router.ingest import Ingestor
from router.models import Case
from router.roles import Role
from router.services import Services
from router.settings import Settings
from router.users import create_user
from router.web.settings import QUEUE_SETTINGS, QueueSettings
from rules.facts import PostFacts
from rules.outcome import Decision, Hit, Priority, QueueName
from tests.fakes.x_api import FakeXApi

BRAND_ID = "783214"
PASSWORD = "correct horse battery staple"
_ids = count(1)


class QueueRouter:
    """Routes on markers in the text: #cs -> customer_service, #pr -> pr (paged), #approve ->
    needs approval, #risky -> risk 0.9 (stays in forum); anything else -> forum."""

    version = "queue-test-1"

    def decide(self, facts: PostFacts) -> Decision:
        text = facts.text
        queue = QueueName.FORUM
        if "#cs" in text:
            queue = QueueName.CUSTOMER_SERVICE
        if "#pr" in text:
            queue = QueueName.PR
        return Decision(
            queue,
            Priority.URGENT if "#urgent" in text else Priority.NORMAL,
            "standard",
            self.version,
            tags=("legal",) if "#pr" in text else (),
            page_pr="#pr" in text,
            needs_approval="#approve" in text,
            risk=0.9 if "#risky" in text else 0.0,
            matched=("marker",) if "#" in text else ("default",),
            hits=(Hit("marker", True, "text has a marker"),) if "#" in text else (),
        )


@dataclass
class Person:
    name: str
    role: Role
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    engine: Any
    services: Services
    fake_x: FakeXApi
    server: TestServer
    http: aiohttp.ClientSession
    people: dict[Role, Person]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def case(self, text: str = "my order never arrived", *, author: str = "maria", channel: str = "x") -> int:
        """Publish an inbound post (on the fake X too, so it can be answered) and ingest it."""
        platform_id = (
            self.fake_x.add_post(text, "6253282")["id"] if channel == "x" else f"{channel}-{next(_ids)}"
        )
        post = InboundPost(
            channel=channel,
            platform_id=platform_id,
            account="acme",
            author=Author(handle=author, followers=120),
            text=text,
            created_at=datetime.now(UTC) - timedelta(minutes=5),
        )
        self.services.ingestor.ingest([post], source="test")
        with Session(self.engine) as s:
            return s.exec(
                select(Case.id).where(Case.author_handle == author).order_by(Case.id.desc())
            ).first()  # type: ignore[union-attr, return-value]

    def get_case(self, case_id: int) -> Case:
        with Session(self.engine) as s:
            found = s.get(Case, case_id)
            assert found is not None
            return found

    async def call(self, method: str, path: str, who: Role | None, **kw: Any) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if who is not None:
            headers.update(self.people[who].auth)
        async with self.http.request(
            method, self.url(path), headers=headers, allow_redirects=False, **kw
        ) as r:
            body = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body


def make_people(engine: Any, *, passwords: bool = False) -> dict[Role, Person]:
    """One user per role. Passwords (argon2, deliberately slow) only for tests that log in."""
    people = {}
    with Session(engine) as s:
        for role in Role:
            name = f"{role.value.replace('_', '-')}-user"
            _, token = create_user(s, name=name, role=role, password=PASSWORD if passwords else None)
            people[role] = Person(name, role, token)
        s.commit()
    return people


@pytest.fixture
def fake_x() -> FakeXApi:
    fake = FakeXApi(app_bearer="app-bearer", authenticated_user_id=BRAND_ID)
    fake.add_user(BRAND_ID, "acme", name="Acme", followers=90_000, verified=True)
    fake.add_user("6253282", "maria", followers=120)
    return fake


@pytest.fixture(autouse=True)
def no_dotenv(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir("/")  # settings read .env from the working directory; a developer's must not leak in
    yield


def queue_settings(**overrides: Any) -> QueueSettings:
    values: dict[str, Any] = {
        "live_poll_seconds": 0.1,
        "lease_seconds": 600,
        "counts_cache_seconds": 0,
        **overrides,
    }
    return QueueSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def world(
    engine, fake_x: FakeXApi, redis_conn
) -> AsyncIterator[World]:  # Redis: login limits start clean

    async with TestServer(fake_x.app(), host="127.0.0.1") as x_server:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            x=XSettings(
                _env_file=None,  # type: ignore[call-arg]
                api_base_url=str(x_server.make_url("/")),
                bearer_token=SecretStr("app-bearer"),
                consumer_key=SecretStr("ck"),
                consumer_secret=SecretStr("cs"),
                access_token=SecretStr("at"),
                access_token_secret=SecretStr("ats"),
                brand_accounts={"acme": BRAND_ID},
            ),
            facebook=FacebookSettings(_env_file=None),  # type: ignore[call-arg]
        )
        services = Services(settings=settings, engine=engine)
        services.__dict__["ingestor"] = Ingestor(engine=engine, router=QueueRouter())
        services.__dict__["rules"] = _StaticRules()
        app = create_app(services)
        app[QUEUE_SETTINGS] = queue_settings()
        people = make_people(engine)
        jar = aiohttp.CookieJar(unsafe=True)
        async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession(cookie_jar=jar) as http:
            yield World(engine, services, fake_x, server, http, people)


class _StaticRules:
    def reload_if_changed(self) -> None:
        return None
