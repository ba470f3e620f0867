"""The page forms: each posts to the same operation as the JSON API, then redirects back to the
page (or re-renders it with the reason, e.g. "held by X since HH:MM")."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from router.auth import CSRF_FIELD, current_user
from router.errors import ApiError
from router.web import operations

NOTICES = {
    "claim": "You hold this case.",
    "release": "Released.",
    "reply": "Reply sent.",
    "handoff": "Handed off.",
    "resolve": "Resolved.",
    "reopen": "Reopened.",
    "notes": "Note added.",
    "tags": "Tags saved.",
    "approve": "Approved and sent.",
    "reject": "Rejected.",
    "retry": "Sent.",
}


def path_id(request: web.Request) -> int:
    try:
        value = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "ids are whole numbers") from None
    if not -(2**63) <= value < 2**63:  # beyond a database id: nothing there (not a 500)
        raise ApiError(404, "not_found", "no such id")
    return value


async def _fields(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    return {k: str(v) for k, v in form.items() if k != CSRF_FIELD}


async def _run(request: web.Request, case_id: int | None, action: str, run: Any) -> web.StreamResponse:
    from router.web.pages import case_context, render

    user = current_user(request)
    try:
        status, _ = await run()
    except ApiError as exc:
        if case_id is None or exc.status in (403, 404):
            raise
        context = await case_context(request, user, case_id)
        return render("case.html", status=exc.status, error=exc.reason, notice=None, **context)
    notice = NOTICES.get(action, "Done.")
    if status == 202:
        notice = "Saved as a draft: it waits for approval by PR or a manager."
    target = f"/cases/{case_id}" if case_id is not None else "/"
    if action in ("handoff", "resolve") and case_id is not None:
        target = "/"
    raise web.HTTPSeeOther(f"{target}?{urlencode({'notice': notice})}" if target != "/" else target)


async def case_action(request: web.Request) -> web.StreamResponse:
    action, case_id = request.match_info["action"], path_id(request)
    operation = operations.CASE_OPERATIONS.get(action)
    if operation is None:
        raise ApiError(404, "not_found", f"no action {action!r}")
    fields = await _fields(request)
    return await _run(
        request, case_id, action, lambda: operation(request, current_user(request), case_id, fields)
    )


async def reply_action(request: web.Request) -> web.StreamResponse:
    action, reply_id = request.match_info["action"], path_id(request)
    operation = operations.REPLY_OPERATIONS.get(action)
    if operation is None:
        raise ApiError(404, "not_found", f"no action {action!r}")
    fields = await _fields(request)
    case_id = int(fields.get("case", "0") or 0) or None
    return await _run(
        request, case_id, action, lambda: operation(request, current_user(request), reply_id, fields)
    )


async def bulk_action(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        ids = [int(str(v)) for v in form.getall("ids", [])]
    except ValueError:
        raise ApiError(422, "bad_ids", "ids are case ids") from None
    params: dict[str, Any] = {"to": str(form.get("queue", "")), "reason": str(form.get("reason", ""))}
    params["add"] = [t.strip() for t in str(form.get("tag", "")).split(",") if t.strip()]
    fields = {"ids": ids, "action": str(form.get("action", "")), "params": params}
    await operations.bulk(request, current_user(request), fields)
    raise web.HTTPSeeOther(str(form.get("back", "/")) if str(form.get("back", "/")).startswith("/?") else "/")


def register(app: web.Application) -> None:
    app.router.add_post("/cases/{id}/{action}", case_action)
    app.router.add_post("/replies/{id}/{action}", reply_action)
    app.router.add_post("/bulk", bulk_action)
