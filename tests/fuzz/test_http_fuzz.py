"""Property tests over every ingest and webhook endpoint and the JSON API: whatever arrives, the
answer is never a 5xx; every 4xx carries a JSON reason; a signed body we cannot read is kept as a
dead letter. Requests go over real HTTP to the app on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from router.app import create_app
from router.models import DeadLetter
from router.roles import Role
from router.services import Services
from router.users import create_user
from tests.fuzz.conftest import CASES_TRIED, SIGNED_ENDPOINTS

EXAMPLES = 120
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


class LiveApp:
    """The app served from a loop this (synchronous) test drives, so hypothesis can call it."""

    def __init__(self, services: Services, token: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = TestServer(create_app(services), host="127.0.0.1")
        self.loop.run_until_complete(self.server.start_server())
        self.http = self.loop.run_until_complete(self._session())
        self.auth = {"Authorization": f"Bearer {token}"}

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(str(self.server.make_url("/")))

    def request(self, method: str, path: str, **kw: Any) -> tuple[int, str, str]:
        async def go() -> tuple[int, str, str]:
            async with self.http.request(method, path, **kw) as r:
                return r.status, r.content_type, await r.text()

        return self.loop.run_until_complete(asyncio.wait_for(go(), 30))

    def close(self) -> None:
        from router import webhooks

        self.loop.run_until_complete(webhooks.wait_idle(self.server.app))
        self.loop.run_until_complete(self.http.close())
        self.loop.run_until_complete(self.server.close())
        self.loop.close()


@pytest.fixture
def live(services: Services, engine: Any) -> Iterator[LiveApp]:
    with Session(engine) as session:
        _, token = create_user(session, name="fuzz-manager", role=Role.MANAGER)
        session.commit()
    app = LiveApp(services, token)
    yield app
    app.close()


def assert_sane(status: int, content_type: str, text: str, where: str) -> None:
    assert status < 500, f"{where}: {status} {text[:300]}"
    if status >= 400:
        assert content_type == "application/json", f"{where}: {status} {content_type} {text[:200]}"
        reason = json.loads(text)["error"]["reason"]
        assert isinstance(reason, str) and reason, where


# --- what arrives ----------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
post_like = st.fixed_dictionaries(
    {},
    optional={
        "platform_id": json_values,
        "account": json_values,
        "author": json_values | st.fixed_dictionaries({"handle": json_values}),
        "text": json_values,
        "created_at": json_values | st.just("2026-11-20T10:30:00Z"),
        "in_reply_to": json_values,
        "direction": st.sampled_from(["inbound", "outbound", "sideways"]) | json_values,
        "channel": json_values,
    },
)
x_like = st.fixed_dictionaries(
    {"for_user_id": st.just("783214") | json_values},
    optional={"tweet_create_events": st.lists(json_values | post_like, max_size=3) | json_values},
)
fb_like = st.fixed_dictionaries(
    {"object": st.just("page") | json_values},
    optional={"entry": st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=3)},
)


def _deep(depth: int) -> bytes:
    return b'{"posts": ' + b"[" * depth + b"]" * depth + b"}"


bodies = st.one_of(
    st.binary(max_size=300),  # invalid UTF-8 and anything else
    json_values.map(lambda v: json.dumps(v).encode()),
    st.one_of(post_like, x_like, fb_like).map(lambda v: json.dumps(v).encode()),
    st.lists(post_like, min_size=1, max_size=3).map(lambda ps: json.dumps({"posts": ps}).encode()),
    st.integers(min_value=1, max_value=200_000).map(_deep),  # deeply nested
    st.integers(min_value=300, max_value=20_000).map(lambda n: b'{"platform_id": ' + b"9" * n + b"}"),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def _dead_letters(engine: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(DeadLetter)).one())


@pytest.mark.parametrize("path", sorted(SIGNED_ENDPOINTS))
def test_signed_garbage_never_5xx_and_is_dead_lettered(live: LiveApp, engine: Any, path: str) -> None:
    sign = SIGNED_ENDPOINTS[path]

    @FUZZ
    @given(body=bodies)
    def check(body: bytes) -> None:
        CASES_TRIED[f"signed {path}"] += 1
        before = _dead_letters(engine)
        status, ctype, text = live.request("POST", path, data=body, headers=sign(body))
        assert_sane(status, ctype, text, f"POST {path} {body[:80]!r}")
        if 400 <= status < 500:  # signed but unreadable: refused with a reason and kept for replay
            assert _dead_letters(engine) == before + 1, f"{path}: {status} without a dead letter"
        else:
            assert status == 200

    check()


header_values = st.text(max_size=80) | st.sampled_from(["sha256=", "sha256=00", "", " ", "1" * 40])


@pytest.mark.parametrize("path", sorted(SIGNED_ENDPOINTS))
def test_unsigned_or_forged_never_5xx(live: LiveApp, path: str) -> None:
    @FUZZ
    @given(body=bodies, signature=header_values, timestamp=header_values)
    def check(body: bytes, signature: str, timestamp: str) -> None:
        CASES_TRIED[f"forged {path}"] += 1
        headers = {
            "x-twitter-webhooks-signature": signature,
            "X-Hub-Signature-256": signature,
            "X-Engage-Signature": signature,
            "X-Engage-Timestamp": timestamp,
        }
        headers = {k: v for k, v in headers.items() if v.isprintable() and v.isascii()}
        status, ctype, text = live.request("POST", path, data=body, headers=headers)
        assert_sane(status, ctype, text, f"POST {path}")
        assert status in (401, 403), f"{path}: forged delivery answered {status}"

    check()


sources = st.text(max_size=60).filter(lambda s: s not in ("", ".", ".."))


def test_any_ingest_source_name_never_5xx(live: LiveApp) -> None:
    @FUZZ
    @given(source=sources, body=bodies)
    def check(source: str, body: bytes) -> None:
        CASES_TRIED["ingest source names"] += 1
        status, ctype, text = live.request("POST", f"/ingest/{quote(source, safe='')}", data=body)
        assert_sane(status, ctype, text, f"/ingest/{source!r}")

    check()


query_values = st.text(max_size=30) | st.integers().map(str) | st.sampled_from(["", "-1", "1e999", "NaN"])
API_QUERY_KEYS = (
    "queue",
    "channel",
    "account",
    "priority",
    "status",
    "tag",
    "assignee",
    "risk",
    "q",
    "limit",
)


def test_queue_api_filters_never_5xx(live: LiveApp) -> None:
    @FUZZ
    @given(
        query=st.dictionaries(st.sampled_from(API_QUERY_KEYS) | st.text(max_size=8), query_values, max_size=5)
    )
    def check(query: dict[str, str]) -> None:
        CASES_TRIED["GET /api/cases filters"] += 1
        status, ctype, text = live.request("GET", "/api/cases", params=query, headers=live.auth)
        assert_sane(status, ctype, text, f"/api/cases {query}")

    check()


ACTIONS = ("claim", "release", "reply", "handoff", "resolve", "reopen", "notes", "tags", "presence")
case_ids = st.integers(min_value=-5, max_value=10**30).map(str) | st.text(max_size=12)


def test_case_actions_with_any_body_never_5xx(live: LiveApp) -> None:
    @FUZZ
    @given(case_id=case_ids, action=st.sampled_from(ACTIONS), body=bodies)
    def check(case_id: str, action: str, body: bytes) -> None:
        CASES_TRIED["POST /api/cases/{id}/{action}"] += 1
        path = f"/api/cases/{quote(case_id, safe='')}/{action}"
        headers = {**live.auth, "Content-Type": "application/json"}
        status, ctype, text = live.request("POST", path, data=body, headers=headers)
        assert_sane(status, ctype, text, f"POST {path!r} {body[:60]!r}")

    check()
