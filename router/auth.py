"""Authentication and authorization: one middleware for the whole app.

Callers are people in a browser (a session cookie: Secure, HttpOnly, SameSite=Strict; every write
carries the session's CSRF token) or API clients (`Authorization: Bearer TOKEN`). What each role
may call is decided by the route table in router/web/access.py; a route missing there is refused.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from aiohttp import web
from sqlmodel import Session

from router import users
from router.errors import ApiError, Handler
from router.idempotency import USER
from router.runtime import run_blocking, services
from router.users import Principal
from router.web import access
from router.web.settings import QUEUE_SETTINGS

log = logging.getLogger(__name__)

SESSION_COOKIE = "engage_session"
LOGIN_CSRF_COOKIE = "engage_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(request: web.Request) -> Principal:
    user: Principal | None = request.get(USER)
    if user is None:  # only reachable if a route was wrongly marked public
        raise ApiError(401, "unauthenticated", "sign in or send an API token")
    return user


def _lookup(engine: object, *, token: str | None, cookie: str | None) -> Principal | None:
    with Session(engine) as session:  # type: ignore[arg-type]
        if token:
            return users.by_token(session, token)
        if cookie:
            return users.by_session(session, cookie)
        return None


async def _authenticate(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    cookie = None if header else request.cookies.get(SESSION_COOKIE)
    if not token and not cookie:
        return None
    return await run_blocking(request, lambda: _lookup(services(request).engine, token=token, cookie=cookie))


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = str((await request.post()).get(CSRF_FIELD, ""))
    return bool(given) and hmac.compare_digest(given or "", expected)


def _wants_page(request: web.Request) -> bool:
    return request.method in SAFE_METHODS and not request.path.startswith("/api/")


@web.middleware
async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is None:  # no route matched: aiohttp answers 404/405 and runs nothing of ours
        return await handler(request)
    decision = access.decision(request.method, resource.canonical)
    if decision is None:
        log.error("route %s %s has no access decision: refused", request.method, resource.canonical)
        raise ApiError(403, "no_access_decision", "this route has no access decision and is refused")
    if decision == access.PUBLIC:
        return await handler(request)
    user = await _authenticate(request)
    if user is None:
        if _wants_page(request):
            raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
        raise ApiError(401, "unauthenticated", "sign in or send an API token (Authorization: Bearer …)")
    csrf = user.csrf_token
    if csrf is not None and request.method not in SAFE_METHODS and not await _csrf_ok(request, csrf):
        raise ApiError(403, "csrf_failed", "the form's CSRF token is missing or wrong; reload the page")
    if user.role not in decision:
        raise ApiError(403, "forbidden", f"role {user.role} may not {request.method} {resource.canonical}")
    request[USER] = user
    return await handler(request)


def set_session_cookie(request: web.Request, response: web.StreamResponse, secret: str) -> None:
    settings = request.app[QUEUE_SETTINGS]
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(timedelta(hours=settings.session_hours).total_seconds()),
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="Strict",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
