"""The OpenAPI 3.1 document of /api, built from the access table so it lists every API route
with the roles allowed to call it."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from router.web.access import PUBLIC, ROUTES

_obj = {"type": "object"}
_str, _int = {"type": "string"}, {"type": "integer"}


def _body(required: list[str], **props: Any) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": props}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SPECS: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("GET", "/api/cases"): (
        "The queue: visible open cases, breached first, then nearest due, then priority",
        None,
    ),
    ("GET", "/api/counts"): ("Open cases per visible queue", None),
    ("GET", "/api/cases/{id}"): (
        "A case: conversation, author, routing explanation, SLA clocks, audit trail",
        None,
    ),
    ("POST", "/api/cases/{id}/claim"): ("Claim (or renew) the lease on a case; 409 names the holder", None),
    ("POST", "/api/cases/{id}/release"): ("Give the case back to the queue", None),
    ("POST", "/api/cases/{id}/presence"): (
        "Heartbeat of an open case page (viewing, typing, left)",
        _body([], state={"enum": ["viewing", "typing", "left"]}, active={"type": "boolean"}),
    ),
    ("POST", "/api/cases/{id}/reply"): (
        "Reply through the channel (needs the claim); 201 sent, 202 waiting for approval, 502 failed",
        _body(["text"], text=_str, in_reply_to_post_id=_int),
    ),
    ("POST", "/api/cases/{id}/handoff"): (
        "Move the case to another queue, with a reason",
        _body(["queue", "reason"], queue={"enum": ["forum", "customer_service", "pr"]}, reason=_str),
    ),
    ("POST", "/api/cases/{id}/resolve"): ("Resolve the case", None),
    ("POST", "/api/cases/{id}/reopen"): ("Reopen a resolved case", None),
    ("POST", "/api/cases/{id}/notes"): ("Add an internal note", _body(["text"], text=_str)),
    ("POST", "/api/cases/{id}/tags"): (
        "Add and remove tags",
        _body([], add={"type": "array", "items": _str}, remove={"type": "array", "items": _str}),
    ),
    ("POST", "/api/cases/bulk"): (
        "One action on many cases; each case succeeds or is reported on its own",
        _body(
            ["ids", "action"],
            ids={"type": "array", "items": _int},
            action={"enum": ["resolve", "reopen", "handoff", "tag"]},
            params=_obj,
        ),
    ),
    ("POST", "/api/replies/{id}/approve"): ("Approve a reply waiting for approval, and send it", None),
    ("POST", "/api/replies/{id}/reject"): ("Reject a reply waiting for approval", _body([], reason=_str)),
    ("POST", "/api/replies/{id}/retry"): ("Send a failed reply again", None),
    ("POST", "/api/compose/preview"): (
        "Fill placeholders and count the length as the channel counts it",
        _body(["case", "text"], case=_int, text=_str),
    ),
    ("GET", "/api/canned"): ("Canned responses (optionally ?queue=)", None),
    ("POST", "/api/canned"): (
        "Add a canned response",
        _body(["name", "text"], name=_str, text=_str, queue=_str),
    ),
    ("GET", "/api/users"): ("Users", None),
    ("POST", "/api/users"): (
        "Create a user; the response carries the API token, shown once",
        _body(["name", "role"], name=_str, role=_str, password=_str),
    ),
    ("GET", "/api/me"): ("The caller", None),
    ("POST", "/api/me/availability"): (
        "Push mode: take new cases, up to a capacity",
        _body([], available={"type": "boolean"}, capacity=_int),
    ),
    ("GET", "/api/events"): ("Server-sent events: `changed` (case ids) and `presence` (with ?case=)", None),
    ("GET", "/api/openapi.json"): ("This document", None),
}

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "reason"],
            "properties": {"code": _str, "reason": _str, "holder": _str, "since": _str},
        }
    },
}
QUERY = (
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
    "offset",
)


def _operation(method: str, path: str, roles: Any) -> dict[str, Any]:
    summary, body = SPECS.get((method, path), (path, None))
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": _int} for n in re.findall(r"{(\w+)}", path)
    ]
    if path == "/api/cases" and method == "GET":
        params += [{"name": n, "in": "query", "schema": _str} for n in QUERY]
    if method == "POST":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "schema": _str,
                "description": "a retry with the same key returns the first response",
            }
        )
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation: dict[str, Any] = {
        "summary": summary,
        "description": "Roles: " + ", ".join(sorted(roles)),
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _obj}}},
            "401": {"description": "not signed in", **error},
            "403": {"description": "role or queue not allowed", **error},
            "409": {"description": "conflict, e.g. held by someone else", **error},
            "422": {"description": "invalid input", **error},
        },
    }
    if body:
        operation["requestBody"] = body
    return operation


@cache
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), roles in sorted(ROUTES.items()):
        if path.startswith("/api/") and roles != PUBLIC:
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, roles)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Engage Router API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "engage_session"},
            },
            "schemas": {"Error": ERROR},
        },
        "security": [{"bearer": []}, {"session": []}],
    }
