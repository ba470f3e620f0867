"""Operability endpoints: readiness of every dependency, Prometheus metrics, request ids."""

from __future__ import annotations

import uuid
from typing import Any

import redis
from aiohttp import web
from rq import Worker
from sqlalchemy import Engine, text

from router import logs, metrics
from router.errors import Handler
from router.runtime import run_blocking, services

routes = web.RouteTableDef()
REQUEST_ID_HEADER = "X-Request-ID"


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every log line of a request carries its id; a caller's own id is kept if it is sane."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
    token = logs.request_id.set(rid)
    try:
        response = await handler(request)
        response.headers[REQUEST_ID_HEADER] = rid
        return response
    finally:
        logs.request_id.reset(token)


def _readiness(app_services: Any) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        with app_services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # report, don't raise: this endpoint exists to say what is down
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        from workers.connection import redis_connection

        conn = redis_connection(app_services.settings)
        conn.ping()
        workers = Worker.all(connection=conn)
        checks["redis"] = {"ok": True}
        checks["workers"] = {"ok": bool(workers), "count": len(workers)}
    except redis.RedisError as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
        checks["workers"] = {"ok": False, "count": None}
    try:  # a silent channel is reported, not a reason to take this router out of service
        from workers.channel_health import channel_statuses

        statuses = channel_statuses(app_services.engine, app_services.settings)
        checks["channels"] = {s.channel: s.as_dict() for s in statuses}
    except Exception as exc:  # report, don't raise
        checks["channels"] = {"error": type(exc).__name__}
    ready = checks["database"]["ok"] and checks["redis"]["ok"]
    return ready, checks


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    ready, checks = await run_blocking(request, _readiness, services(request))
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


@routes.get("/metrics")
async def metrics_endpoint(request: web.Request) -> web.Response:
    body = await run_blocking(request, metrics.exposition)
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


def register(app: web.Application, engine: Engine) -> None:
    metrics.register_database_gauges(engine)
    app.add_routes(routes)
