"""The pages over HTTP: login with a secure session cookie, CSRF on every form, escaping of
attacker-controlled post text, the collision message, live updates over server-sent events."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest
from sqlmodel import Session

from router.roles import Role
from router.users import create_user
from tests.queue.conftest import PASSWORD, World

XSS = '<script>alert("x")</script> <img src=x onerror="alert(1)"> "quoted" & done'


async def login(world: World, name: str, password: str = PASSWORD) -> tuple[aiohttp.ClientSession, str]:
    """A browser-like session: cookie jar that keeps Secure cookies for the test server's origin."""
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=world.url("/"))
    http = aiohttp.ClientSession(cookie_jar=jar)
    async with http.get(world.url("/login")) as r:
        page = await r.text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    async with http.post(
        world.url("/login"),
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    ) as r:
        assert r.status == 303, await r.text()
        set_cookie = r.headers.getall("Set-Cookie")
    session_cookie = next(c for c in set_cookie if c.startswith("engage_session="))
    return http, session_cookie


def with_password(world: World, name: str, role: Role) -> None:
    with Session(world.engine) as s:
        create_user(s, name=name, role=role, password=PASSWORD)
        s.commit()


@pytest.mark.asyncio
async def test_login_sets_a_secure_httponly_samesite_cookie_and_logout_ends_it(world: World) -> None:
    with_password(world, "fiona", Role.FORUM_MANAGER)
    http, cookie = await login(world, "fiona")
    async with http:
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"secure", "httponly", "samesite"} <= attributes and "SameSite=Strict" in cookie
        async with http.get(world.url("/")) as r:
            page = await r.text()
            assert r.status == 200 and "fiona" in page
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]  # type: ignore[index]
        async with http.post(world.url("/logout"), data={"csrf_token": csrf}, allow_redirects=False) as r:
            assert r.status == 303
        async with http.get(world.url("/"), allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/login")


@pytest.mark.asyncio
async def test_wrong_passwords_and_forged_login_forms_are_refused(world: World) -> None:
    with_password(world, "fiona", Role.FORUM_MANAGER)
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=world.url("/"))
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(world.url("/login")) as r:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())[1]  # type: ignore[index]
        form = {"name": "fiona", "password": "wrong", "csrf_token": token}
        async with http.post(world.url("/login"), data=form, allow_redirects=False) as r:
            assert r.status == 401 and "Wrong name or password" in await r.text()
        form = {"name": "nobody", "password": PASSWORD, "csrf_token": token}
        async with http.post(world.url("/login"), data=form, allow_redirects=False) as r:
            assert r.status == 401
    async with aiohttp.ClientSession() as fresh:  # no login-form cookie: a cross-site form post
        form = {"name": "fiona", "password": PASSWORD, "csrf_token": token}
        async with fresh.post(world.url("/login"), data=form, allow_redirects=False) as r:
            assert r.status == 403


@pytest.mark.asyncio
async def test_forms_need_the_session_csrf_token(world: World) -> None:
    with_password(world, "fiona", Role.FORUM_MANAGER)
    case_id = world.case()
    http, _ = await login(world, "fiona")
    async with http:
        async with http.get(world.url(f"/cases/{case_id}")) as r:
            page = await r.text()
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]  # type: ignore[index]
        for data in ({}, {"csrf_token": "forged"}):
            async with http.post(world.url(f"/cases/{case_id}/claim"), data=data, allow_redirects=False) as r:
                assert r.status == 403 and (await r.json())["error"]["code"] == "csrf_failed"
        async with http.post(world.url(f"/api/cases/{case_id}/claim"), allow_redirects=False) as r:
            assert r.status == 403  # the JSON API with a cookie needs the header too
        async with http.post(
            world.url(f"/cases/{case_id}/claim"), data={"csrf_token": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303
        assert world.get_case(case_id).assignee == "fiona"
        headers = {"X-CSRF-Token": csrf}
        async with http.post(world.url(f"/api/cases/{case_id}/release"), headers=headers) as r:
            assert r.status == 200


@pytest.mark.asyncio
async def test_post_text_is_escaped_everywhere(world: World) -> None:
    case_id = world.case(XSS, author="mallory")
    await world.call("POST", f"/api/cases/{case_id}/notes", Role.FORUM_MANAGER, json={"text": XSS})
    await world.call("POST", f"/api/cases/{case_id}/tags", Role.FORUM_MANAGER, json={"add": ["<b>x</b>"]})
    for path in ("/", "/queue/rows", f"/cases/{case_id}", f"/cases/{case_id}/panel"):
        status, page = await world.call("GET", path, Role.FORUM_MANAGER)
        assert status == 200
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>x</b>" not in page
        assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=" in page
    async with world.http.get(world.url("/"), headers=world.people[Role.FORUM_MANAGER].auth) as r:
        csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.asyncio
async def test_the_collision_message_on_the_case_page(world: World) -> None:
    case_id = world.case()
    await world.call("POST", f"/api/cases/{case_id}/claim", Role.MANAGER)
    status, page = await world.call("GET", f"/cases/{case_id}", Role.FORUM_MANAGER)
    assert re.search(r"Held by manager-user since \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    status, page = await world.call("POST", f"/cases/{case_id}/claim", Role.FORUM_MANAGER)
    assert status == 409 and re.search(r"held by manager-user since \d\d:\d\d UTC", page)


@pytest.mark.asyncio
async def test_page_forms_reply_handoff_and_bulk(world: World) -> None:
    case_id, other = world.case("hello"), world.case("spam spam", author="bot")
    status, _ = await world.call(
        "POST", f"/cases/{case_id}/reply", Role.FORUM_MANAGER, data={"text": "Hi there"}
    )
    assert status == 303 and [c["text"] for c in world.fake_x.created] == ["Hi there"]
    status, _ = await world.call(
        "POST", f"/cases/{case_id}/handoff", Role.FORUM_MANAGER, data={"queue": "pr", "reason": "press"}
    )
    assert status == 303 and world.get_case(case_id).queue == "pr"
    status, _ = await world.call(
        "POST", "/bulk", Role.FORUM_MANAGER, data={"ids": str(other), "action": "resolve"}
    )
    assert status == 303 and world.get_case(other).status == "resolved"


@pytest.mark.asyncio
async def test_server_sent_events_announce_new_cases_and_presence(world: World) -> None:
    first = world.case()
    auth = world.people[Role.FORUM_MANAGER].auth
    async with world.http.get(world.url(f"/api/events?case={first}"), headers=auth) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")

        async def next_event(kind: str) -> dict[str, object]:
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("event: ") and line.strip() == f"event: {kind}":
                    data = (await stream.content.readline()).decode()
                    return json.loads(data.removeprefix("data: "))  # type: ignore[no-any-return]

        initial = await asyncio.wait_for(next_event("presence"), 5)
        assert initial["viewers"] == []
        second = world.case("a new one", author="newbie")
        changed = await asyncio.wait_for(next_event("changed"), 5)
        assert second in changed["cases"]  # type: ignore[operator]
        await world.call("POST", f"/api/cases/{first}/presence", Role.MANAGER, json={})
        presence = await asyncio.wait_for(next_event("presence"), 5)
        assert presence["viewers"] == [{"user": "manager-user", "state": "viewing"}]


@pytest.mark.asyncio
async def test_repeated_wrong_passwords_are_refused_for_a_while_even_with_the_right_one(world: World) -> None:
    with_password(world, "gina", Role.CUSTOMER_SERVICE)
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=world.url("/"))
    async with aiohttp.ClientSession(cookie_jar=jar) as http:

        async def attempt(password: str) -> aiohttp.ClientResponse:
            async with http.get(world.url("/login")) as r:
                token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())[1]  # type: ignore[index]
            async with http.post(
                world.url("/login"),
                allow_redirects=False,
                data={"name": "gina", "password": password, "csrf_token": token, "next": "/"},
            ) as r:
                await r.read()
                return r

        statuses = [(await attempt(f"guess-{i}")).status for i in range(5)]
        assert statuses == [401] * 5
        refused = await attempt(PASSWORD)
        assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
