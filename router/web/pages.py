"""Server-rendered pages: login, the queue, a case. Jinja2 escapes everything it prints; post
text is attacker-controlled and is never marked safe."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlmodel import Session

from router import auth, users
from router.auth import current_user
from router.errors import ApiError
from router.notes import canned_for, fill
from router.roles import ALL_QUEUES, can_approve
from router.runtime import run_blocking, services
from router.users import Principal
from router.web import casework, forms, login_limit
from router.web.api_more import placeholders
from router.web.casequery import FILTERS, CaseQuery, cached_counts, detail, list_for
from router.web.live import HUB
from router.web.operations import in_session
from router.web.settings import QUEUE_SETTINGS
from workers.connection import redis_connection

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
routes = web.RouteTableDef()


def _hhmm(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["when"] = _hhmm


def render(name: str, status: int = 200, **context: Any) -> web.Response:
    html = ENV.get_template(name).render(**context)
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _safe_next(value: str | None) -> str:
    """Only a path on this site: no scheme, no host, no //evil or /\\evil that browsers treat as one."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", csrf=token, next=_safe_next(request.query.get("next")), error=None)
    secure = request.app[QUEUE_SETTINGS].cookie_secure
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE, token, path="/login", secure=secure, httponly=True, samesite="Strict"
    )
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    name, password, target = (
        str(form.get("name", "")),
        str(form.get("password", "")),
        _safe_next(str(form.get("next", ""))),
    )
    expected = request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, str(form.get(auth.CSRF_FIELD, ""))):
        raise ApiError(403, "csrf_failed", "the login form expired; reload the page")
    hours = request.app[QUEUE_SETTINGS].session_hours
    conn, address = redis_connection(services(request).settings), request.remote or "unknown"
    wait = await run_blocking(request, lambda: login_limit.retry_after(conn, name=name, address=address))
    if wait is not None:
        minutes = (wait + 59) // 60
        response = render(
            "login.html",
            status=429,
            csrf=expected,
            next=target,
            error=f"Too many failed sign-ins. Try again in {minutes} minute(s).",
        )
        response.headers["Retry-After"] = str(wait)
        return response

    def work(s: Session) -> tuple[str, str] | None:
        user = users.check_password(s, name=name, password=password)
        return users.start_session(s, user=user, lifetime=timedelta(hours=hours)) if user else None

    started = await in_session(request, work)
    if started is None:
        await run_blocking(request, lambda: login_limit.record_failure(conn, name=name, address=address))
        return render("login.html", status=401, csrf=expected, next=target, error="Wrong name or password.")
    await run_blocking(request, lambda: login_limit.clear(conn, name=name, address=address))

    response = web.HTTPSeeOther(target)
    auth.set_session_cookie(request, response, started[0])
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    secret = request.cookies.get(auth.SESSION_COOKIE)
    if secret:
        await in_session(request, lambda s: users.end_session(s, secret))
    response = web.HTTPSeeOther("/login")
    auth.clear_session_cookie(response)
    raise response


def _queue_context(request: web.Request, user: Principal) -> Any:
    query = CaseQuery.from_params(request.query, limit=200)

    def work(s: Session) -> dict[str, Any]:
        return {"cases": list_for(s, user.role, query), "counts": cached_counts(request, s, user.role)}

    return query, work


@routes.get("/")
async def queue_page(request: web.Request) -> web.Response:
    user = current_user(request)
    query, work = _queue_context(request, user)
    found = await in_session(request, work)
    filters = {name: request.query.get(name, "") for name in FILTERS}
    return render(
        "queue.html",
        user=user,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        queues=sorted(ALL_QUEUES),
        status_filter=query.status,
        **found,
    )


@routes.get("/queue/rows")
async def queue_rows(request: web.Request) -> web.Response:
    user = current_user(request)
    _, work = _queue_context(request, user)
    found = await in_session(request, work)
    return render("_rows.html", user=user, **found)


async def case_context(request: web.Request, user: Principal, case_id: int) -> dict[str, Any]:
    def work(s: Session) -> dict[str, Any]:
        case = casework.load(s, case_id, user)
        canned = [
            {"name": c.name, "text": fill(c.text, placeholders(case, user.name))}
            for c in canned_for(s, case.queue)
        ]
        return {"case": detail(s, case), "canned": canned}

    found = await in_session(request, work)
    found.update(
        user=user,
        viewers=request.app[HUB].viewers(case_id),
        queues=sorted(ALL_QUEUES),
        can_approve=can_approve(user.role),
        limit=280 if found["case"]["channel"] == "x" else None,
    )
    return found


@routes.get("/cases/{id}")
async def case_page(request: web.Request) -> web.Response:
    user = current_user(request)
    case_id = forms.path_id(request)
    notice = request.query.get("notice")
    return render("case.html", error=None, notice=notice, **await case_context(request, user, case_id))


@routes.get("/cases/{id}/panel")
async def case_panel(request: web.Request) -> web.Response:
    user = current_user(request)
    return render("_case_panel.html", **await case_context(request, user, forms.path_id(request)))


def register(app: web.Application) -> None:
    app.add_routes(routes)
    forms.register(app)
