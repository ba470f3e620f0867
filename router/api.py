"""JSON API: health and the queue."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import Session

from router.errors import ApiError
from router.queue import ALL, OPEN, QueueFilter, list_cases
from router.runtime import run_blocking, services

routes = web.RouteTableDef()
MAX_PAGE = 500


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/api/cases")
async def get_cases(request: web.Request) -> web.Response:
    try:
        limit = int(request.query.get("limit", "100"))
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        raise ApiError(400, "bad_query", "limit and offset must be whole numbers") from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ApiError(400, "bad_query", f"limit must be 1..{MAX_PAGE} and offset >= 0")
    flt = QueueFilter(
        queue=request.query.get("queue"), status=request.query.get("status", OPEN), limit=limit, offset=offset
    )
    engine = services(request).engine

    def read() -> list[dict[str, object]]:
        with Session(engine) as session:
            return list_cases(session, flt)

    return web.json_response({"cases": await run_blocking(request, read), "status_filter": flt.status or ALL})


def register(app: web.Application) -> None:
    app.add_routes(routes)
