"""JSON API around the cases: who am I, availability, composer preview, canned responses, users,
live events and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from router import claims, users
from router.api import body_of, path_id
from router.auth import current_user
from router.errors import ApiError
from router.notes import CannedResponse, canned_for, fill
from router.replies import measure
from router.roles import ALL_QUEUES, Role
from router.users import User
from router.web import casework, live, openapi
from router.web.operations import in_session, lease

routes = web.RouteTableDef()


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response({"id": user.id, "name": user.name, "role": user.role})


@routes.post("/api/me/availability")
async def availability(request: web.Request) -> web.Response:
    """Push mode: whether new cases may be assigned to me, and how many I hold at most."""
    user, body = current_user(request), await body_of(request)
    available, capacity = bool(body.get("available", True)), body.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or not 0 <= capacity <= 100):
        raise ApiError(422, "bad_capacity", "capacity is 0..100")

    def work(s: Session) -> dict[str, object]:
        row = s.get(User, user.id)
        assert row is not None
        row.available = available
        row.capacity = capacity if capacity is not None else row.capacity
        s.add(row)
        return {"available": row.available, "capacity": row.capacity}

    return web.json_response(await in_session(request, work))


@routes.post("/api/cases/{id}/presence")
async def presence(request: web.Request) -> web.Response:
    """A heartbeat from an open case page; an active user's heartbeat also renews their lease."""
    user, case_id, body = current_user(request), path_id(request), await body_of(request)
    state = body.get("state", "viewing")
    if state not in ("viewing", "typing", "left"):
        raise ApiError(422, "bad_state", "state is viewing, typing or left")

    def work(s: Session) -> None:
        casework.load(s, case_id, user)
        held = claims.holder(s, case_id)
        if body.get("active") and held is not None and held.user_id == user.id:
            claims.claim(s, case_id=case_id, user=user, lease=lease(request))

    await in_session(request, work)
    hub = request.app[live.HUB]
    if state == "left":
        hub.leave(case_id, user.name)
    else:
        hub.touch(case_id, user.name, state)
    return web.json_response({"case": case_id, "viewers": hub.viewers(case_id)})


@routes.post("/api/compose/preview")
async def preview(request: web.Request) -> web.Response:
    """The reply as it would go out: placeholders filled, length counted as the channel counts it."""
    user, body = current_user(request), await body_of(request)
    case_id = body.get("case")
    if not isinstance(case_id, int):
        raise ApiError(422, "bad_case", "case is a case id")

    def work(s: Session) -> dict[str, object]:
        case = casework.load(s, case_id, user)
        text = fill(str(body.get("text", "")), placeholders(case, user.name))
        length, limit = measure(case.channel, text)
        return {"text": text, "length": length, "limit": limit, "fits": 0 < length <= limit}

    return web.json_response(await in_session(request, work))


def placeholders(case: object, agent: str) -> dict[str, object]:
    return {
        "author": "@" + str(getattr(case, "author_handle", "")),
        "account": getattr(case, "account", ""),
        "agent": agent,
        "case_id": getattr(case, "id", ""),
    }


@routes.get("/api/canned")
async def list_canned(request: web.Request) -> web.Response:
    current_user(request)
    found = await in_session(request, lambda s: canned_for(s, request.query.get("queue")))
    return web.json_response(
        {"canned": [{"id": c.id, "name": c.name, "text": c.text, "queue": c.queue} for c in found]}
    )


@routes.post("/api/canned")
async def add_canned(request: web.Request) -> web.Response:
    current_user(request)
    body = await body_of(request)
    name, text, queue = (
        str(body.get("name", "")).strip(),
        str(body.get("text", "")).strip(),
        body.get("queue"),
    )
    if not name or not text or (queue is not None and queue not in ALL_QUEUES):
        raise ApiError(422, "bad_canned", "name and text are required; queue is one of the queues or null")

    def work(s: Session) -> int | None:
        row = CannedResponse(name=name, text=text, queue=queue)
        s.add(row)
        try:
            s.flush()
        except IntegrityError:
            raise ApiError(409, "exists", f"a canned response named {name!r} exists") from None
        return row.id

    return web.json_response({"id": await in_session(request, work), "name": name}, status=201)


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    found = await in_session(request, users.list_users)
    return web.json_response(
        {"users": [{"id": u.id, "name": u.name, "role": u.role, "active": u.active} for u in found]}
    )


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.Response:
    """Creates a user; the API token is in this response and nowhere else, ever."""
    admin, body = current_user(request), await body_of(request)
    name, role, password = str(body.get("name", "")).strip(), body.get("role"), body.get("password")
    if not name or role not in {r.value for r in Role}:
        raise ApiError(
            422, "bad_user", f"name is required and role is one of {', '.join(r.value for r in Role)}"
        )

    def work(s: Session) -> tuple[int | None, str]:
        try:
            user, token = users.create_user(
                s, name=name, role=Role(role), password=str(password) if password else None, actor=admin.name
            )
        except ValueError as exc:
            raise ApiError(409, "exists", str(exc)) from None
        return user.id, token

    user_id, token = await in_session(request, work)
    return web.json_response({"id": user_id, "name": name, "role": role, "token": token}, status=201)


@routes.get("/api/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


def register(app: web.Application) -> None:
    app.add_routes(routes)
    app.router.add_get("/api/events", live.events)
