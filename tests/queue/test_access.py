"""Nothing answers without authentication but the login page, health and the signed webhooks;
each role may call only what its role allows (a table-driven test over endpoints x roles)."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import Session

from router.app import create_app
from router.replies import Reply, ReplyStatus
from router.roles import Role
from router.web import access
from router.web.settings import QUEUE_SETTINGS
from tests.queue.conftest import World, make_people, queue_settings

FM, CS, PR, MGR, ADM = Role.FORUM_MANAGER, Role.CUSTOMER_SERVICE, Role.PR, Role.MANAGER, Role.ADMIN
EVERYONE = {FM, CS, PR, MGR, ADM}
AGENTS = {FM, CS, PR, MGR}

# Written out here, independently of router/web/access.py, from the issue's description of roles.
ENDPOINTS: list[tuple[str, str, set[Role], dict[str, object] | None]] = [
    ("GET", "/api/cases", EVERYONE, None),
    ("GET", "/api/counts", EVERYONE, None),
    ("GET", "/api/me", EVERYONE, None),
    ("GET", "/api/openapi.json", EVERYONE, None),
    ("GET", "/api/cases/{case}", AGENTS, None),
    ("POST", "/api/cases/{case}/claim", AGENTS, {}),
    ("POST", "/api/cases/{case}/release", AGENTS, {}),
    ("POST", "/api/cases/{case}/presence", AGENTS, {"state": "viewing"}),
    ("POST", "/api/cases/{case}/reply", AGENTS, {"text": "Sorry to hear that, we are on it."}),
    ("POST", "/api/cases/{case}/handoff", AGENTS, {"queue": "__other__", "reason": "wrong queue"}),
    ("POST", "/api/cases/{case}/resolve", AGENTS, {}),
    ("POST", "/api/cases/{case}/reopen", AGENTS, {}),
    ("POST", "/api/cases/{case}/notes", AGENTS, {"text": "called them"}),
    ("POST", "/api/cases/{case}/tags", AGENTS, {"add": ["spam"]}),
    ("POST", "/api/cases/bulk", {FM, MGR}, {"ids": ["{case}"], "action": "tag", "params": {"add": ["x"]}}),
    ("POST", "/api/replies/{reply}/approve", {PR, MGR}, {}),
    ("POST", "/api/replies/{reply}/reject", {PR, MGR}, {"reason": "tone"}),
    ("POST", "/api/replies/{reply}/retry", AGENTS, {}),
    ("POST", "/api/compose/preview", AGENTS, {"case": "{case}", "text": "hi {author}"}),
    ("GET", "/api/canned", AGENTS, None),
    ("POST", "/api/canned", {MGR, ADM}, {"name": "sorry", "text": "Sorry {author}!"}),
    ("GET", "/api/users", {ADM}, None),
    ("POST", "/api/users", {ADM}, {"name": "newbie", "role": "pr"}),
    ("POST", "/api/me/availability", AGENTS, {"available": True, "capacity": 3}),
    ("GET", "/", EVERYONE, None),
    ("GET", "/cases/{case}", AGENTS, None),
    ("GET", "/cases/{case}/panel", AGENTS, None),
    ("GET", "/reports", {MGR}, None),
    ("GET", "/reports/cases?figure=cases", {MGR}, None),
    ("GET", "/reports/cases.csv?figure=answered", {MGR}, None),
]
MARKER = {FM: "", CS: " #cs", PR: " #pr", MGR: "", ADM: ""}
OTHER_QUEUE = {FM: "pr", CS: "forum", PR: "forum", MGR: "pr", ADM: "pr"}


def _fill(value: object, case_id: int, reply_id: int, role: Role) -> object:
    if isinstance(value, dict):
        return {k: _fill(v, case_id, reply_id, role) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, case_id, reply_id, role) for v in value]
    if value == "{case}":
        return case_id
    if value == "__other__":
        return OTHER_QUEUE[role]
    return value


@pytest.mark.asyncio
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("method", "path", "allowed", "body"), ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS]
)
async def test_each_role_can_call_only_what_it_is_allowed(
    world: World, role: Role, method: str, path: str, allowed: set[Role], body: dict[str, object] | None
) -> None:
    case_id = world.case(f"my order never arrived #approve{MARKER[role]}")
    with Session(world.engine) as s:
        from router.models import Post

        post = s.exec(__import__("sqlmodel").select(Post).where(Post.case_id == case_id)).first()
        reply = Reply(
            case_id=case_id,
            author="x",
            text="draft",
            status=ReplyStatus.PENDING_APPROVAL,
            in_reply_to_post_id=post.id,
        )
        s.add(reply)
        s.commit()
        reply_id = reply.id
    url = path.replace("{case}", str(case_id)).replace("{reply}", str(reply_id))
    kwargs = {} if body is None else {"json": _fill(body, case_id, reply_id or 0, role)}
    status, answer = await world.call(method, url, role, **kwargs)
    if role in allowed:
        assert status not in (401, 403) and status < 500, (status, answer)
    else:
        assert status == 403, (status, answer)
        assert answer["error"]["code"] == "forbidden"


def _example_path(resource: web.AbstractResource, case_id: int) -> str:
    values = {"id": str(case_id), "action": "claim", "source": "reviews"}
    canonical = resource.canonical
    return re.sub(r"{(\w+)}", lambda m: values.get(m[1], "1"), canonical)


@pytest.mark.asyncio
async def test_every_route_has_an_access_decision_and_the_table_has_no_stale_rows(world: World) -> None:
    routes = {
        (r.method, r.resource.canonical)
        for r in world.server.app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }
    missing = {r for r in routes if access.decision(*r) is None}
    assert not missing, f"routes without an access decision: {sorted(missing)}"
    assert set(access.ROUTES) <= routes | {("GET", "/static")}, set(access.ROUTES) - routes


@pytest.mark.asyncio
async def test_nothing_but_login_health_and_webhooks_answers_without_authentication(world: World) -> None:
    case_id = world.case()
    public = set()
    for route in world.server.app.router.routes():
        if route.resource is None or route.method == "HEAD":
            continue
        decision = access.decision(route.method, route.resource.canonical)
        path = _example_path(route.resource, case_id)
        if decision == access.PUBLIC:
            public.add(route.resource.canonical)
            continue
        for headers in (
            {},
            {"Authorization": "Bearer eng_not-a-real-token"},
            {"Cookie": "engage_session=forged"},
        ):
            status, answer = await world.call(route.method, path, None, headers=headers)
            if route.method == "GET" and not path.startswith("/api/"):
                assert status == 303, (route.method, path, status)
            else:
                assert status == 401, (route.method, path, status, answer)
                assert answer["error"]["code"] == "unauthenticated"
    assert public == {
        "/healthz",
        "/login",
        "/webhooks/x",
        "/webhooks/facebook",
        "/ingest/{source}",
        "/static",
    }


@pytest.mark.asyncio
async def test_a_route_without_a_decision_is_refused(world: World) -> None:
    app = create_app(world.services)
    app[QUEUE_SETTINGS] = queue_settings()

    async def secret(request: web.Request) -> web.Response:
        return web.json_response({"leak": True})

    app.router.add_get("/api/undeclared", secret)
    async with TestServer(app, host="127.0.0.1") as server:
        token = world.people[Role.ADMIN].token
        async with world.http.get(
            server.make_url("/api/undeclared"), headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "no_access_decision"


def test_people_fixture_names_are_unique(engine) -> None:
    assert len({p.name for p in make_people(engine).values()}) == len(Role)
