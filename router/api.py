"""JSON API: health, the queue, and what people do to cases. Roles are checked by the auth
middleware's route table (router/web/access.py); case visibility and claims by the services."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.auth import current_user
from router.errors import ApiError
from router.web import casework, operations
from router.web.casequery import CaseQuery, cached_counts, detail, list_for
from router.web.live import HUB
from router.web.operations import in_session

routes = web.RouteTableDef()
MAX_PAGE = 500


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def body_of(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:  # (the body may have been read already, e.g. for Idempotency-Key)
        return {}
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        raise ApiError(400, "bad_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return body


def path_id(request: web.Request) -> int:
    try:
        value = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "ids are whole numbers") from None
    if not -(2**63) <= value < 2**63:  # beyond a database id: nothing there (not a 500)
        raise ApiError(404, "not_found", "no such id")
    return value


def paging(request: web.Request) -> tuple[int, int]:
    try:
        limit, offset = int(request.query.get("limit", "100")), int(request.query.get("offset", "0"))
    except ValueError:
        raise ApiError(400, "bad_query", "limit and offset must be whole numbers") from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ApiError(400, "bad_query", f"limit must be 1..{MAX_PAGE} and offset >= 0")
    return limit, offset


@routes.get("/api/cases")
async def get_cases(request: web.Request) -> web.Response:
    user = current_user(request)
    limit, offset = paging(request)
    query = CaseQuery.from_params(request.query, limit=limit, offset=offset)
    found, per_queue = await in_session(
        request, lambda s: (list_for(s, user.role, query), cached_counts(request, s, user.role))
    )
    return web.json_response({"cases": found, "counts": per_queue, "status_filter": query.status})


@routes.get("/api/counts")
async def get_counts(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response(
        {"counts": await in_session(request, lambda s: cached_counts(request, s, user.role))}
    )


@routes.get("/api/cases/{id}")
async def get_case(request: web.Request) -> web.Response:
    user, case_id = current_user(request), path_id(request)
    found = await in_session(request, lambda s: detail(s, casework.load(s, case_id, user)))
    found["viewers"] = request.app[HUB].viewers(found["id"])
    return web.json_response(found)


@routes.post("/api/cases/bulk")
async def bulk(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response(await operations.bulk(request, user, await body_of(request)))


def _json_handler(operation: operations.Operation) -> Any:
    async def handler(request: web.Request) -> web.Response:
        status, result = await operation(
            request, current_user(request), path_id(request), await body_of(request)
        )
        return web.json_response(result, status=status)

    return handler


def register(app: web.Application) -> None:
    app.add_routes(routes)
    for name, operation in operations.CASE_OPERATIONS.items():
        app.router.add_post(f"/api/cases/{{id}}/{name}", _json_handler(operation))
    for name, operation in operations.REPLY_OPERATIONS.items():
        app.router.add_post(f"/api/replies/{{id}}/{name}", _json_handler(operation))
