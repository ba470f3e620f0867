"""Fake platforms on 127.0.0.1 and a guard that fails any test trying to reach a real host."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from channels.checkpoints import InMemoryCheckpointStore
from channels.settings import FacebookSettings, XSettings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.x_api import FakeXApi

BRAND_ID = "783214"
PAGE_ID = "448242228374517"


def _loopback(host: Any) -> bool:
    if host in ("localhost", None, ""):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any DNS lookup or connection beyond 127.0.0.1 fails the test loudly."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            attempts.append(str(host))
            raise OSError(f"test tried to resolve {host!r}: only 127.0.0.1 is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not _loopback(address[0]):
            attempts.append(str(address[0]))
            raise OSError(f"test tried to connect to {address!r}: only 127.0.0.1 is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert not attempts, f"tests must not reach real hosts: {attempts}"


@pytest.fixture(autouse=True)
def no_platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's real keys in the environment or .env must never reach a test."""
    monkeypatch.chdir("/")  # settings read .env from the working directory


@pytest.fixture
def checkpoints() -> InMemoryCheckpointStore:
    return InMemoryCheckpointStore()


@pytest.fixture
def fake_x() -> FakeXApi:
    fake = FakeXApi(app_bearer="app-bearer", authenticated_user_id=BRAND_ID)
    fake.add_user(BRAND_ID, "acme", name="Acme", followers=90_000, verified=True, verified_type="business")
    return fake


@pytest_asyncio.fixture
async def x_server(fake_x: FakeXApi) -> AsyncIterator[TestServer]:
    async with TestServer(fake_x.app(), host="127.0.0.1") as server:
        yield server


@pytest.fixture
def x_settings(x_server: TestServer) -> XSettings:
    return XSettings(
        api_base_url=str(x_server.make_url("/")),
        bearer_token=SecretStr("app-bearer"),
        consumer_key=SecretStr("ck"),
        consumer_secret=SecretStr("cs"),
        access_token=SecretStr("at"),
        access_token_secret=SecretStr("ats"),
        brand_accounts={"acme": BRAND_ID},
        search_queries=["acme -is:retweet"],
        max_results=10,
    )


@pytest.fixture
def fake_graph() -> FakeGraphApi:
    return FakeGraphApi(page_id=PAGE_ID, page_name="Acme", page_token="page-token", version="v24.0")


@pytest_asyncio.fixture
async def graph_server(fake_graph: FakeGraphApi) -> AsyncIterator[TestServer]:
    async with TestServer(fake_graph.app(), host="127.0.0.1") as server:
        yield server


@pytest.fixture
def facebook_settings(graph_server: TestServer) -> FacebookSettings:
    return FacebookSettings(
        graph_url=str(graph_server.make_url("/")),
        graph_version="v24.0",
        page_id=PAGE_ID,
        page_name="acme",
        page_token=SecretStr("page-token"),
        app_secret=SecretStr("app-secret"),
        verify_token=SecretStr("verify-me"),
        poll_recent_posts=5,
    )
