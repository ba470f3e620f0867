"""Security headers on every kind of response, constant-time signature checks, and replayed
deliveries: a webhook delivered again later is a no-op, a generic one with an old timestamp is refused."""

from __future__ import annotations

import ast
import json
import re
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from router import webhooks
from router.app import MAX_BODY_BYTES
from router.models import InboxEvent, Post
from router.roles import Role
from router.security import SECURITY_HEADERS
from tests.fuzz.conftest import SOURCE, Served, fb_headers, ingest_headers, x_headers

ROOT = Path(__file__).resolve().parents[2]


def _assert_secure(headers: object, where: str) -> None:
    h = headers  # CIMultiDictProxy
    csp = h.get("Content-Security-Policy", "")  # type: ignore[attr-defined]
    assert csp, f"{where}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert re.search(r"script-src 'self'(;|$)", csp) or "default-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert h.get("X-Content-Type-Options") == "nosniff", where  # type: ignore[attr-defined]
    assert h.get("X-Frame-Options") == "DENY", where  # type: ignore[attr-defined]
    assert h.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), where  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_every_kind_of_response_carries_the_security_headers(served: Served) -> None:
    http = served.http
    cases = [
        ("GET", "/healthz", {}, None, 200),
        ("GET", "/login", {}, None, 200),  # a page with its own policy
        ("GET", "/static/app.js", {}, None, 200),
        ("GET", "/no/such/page", {}, None, 404),
        ("GET", "/api/cases", {}, None, 401),
        ("GET", "/api/cases", served.auth(Role.MANAGER), None, 200),
        ("GET", "/", {}, None, None),  # a redirect to /login or a 401
        ("POST", "/webhooks/x", {}, b"{}", 401),
        ("POST", f"/ingest/{SOURCE}", ingest_headers(b"{not json"), b"{not json", 400),
        ("GET", "/readyz", served.auth(Role.PR), None, 403),
    ]
    for method, path, headers, body, status in cases:
        async with http.request(method, path, headers=headers, data=body, allow_redirects=False) as r:
            if status is not None:
                assert r.status == status, (path, r.status, await r.text())
            _assert_secure(r.headers, f"{method} {path} -> {r.status}")


@pytest.mark.asyncio
async def test_oversized_body_is_refused_with_json_and_secure_headers(served: Served) -> None:
    raw = b'{"posts": ["' + b"a" * (MAX_BODY_BYTES + 10) + b'"]}'
    async with served.http.post(f"/ingest/{SOURCE}", data=raw, headers=ingest_headers(raw)) as r:
        assert r.status == 413
        body = await r.json()
        assert body["error"]["reason"]
        _assert_secure(r.headers, "413")


def test_pages_have_no_inline_script_or_handler() -> None:
    """The CSP forbids inline script; the templates must not need it."""
    for template in (ROOT / "router" / "templates").glob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
            assert "src=" in tag, f"{template.name}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), f"{template.name}: inline event handler"
        assert "javascript:" not in html.lower(), template.name


def test_the_policy_itself() -> None:
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"


def _compares(function: ast.FunctionDef) -> tuple[bool, bool]:
    """(uses hmac.compare_digest, compares something that looks like a secret with ==/!=)."""
    uses_digest = any(isinstance(n, ast.Attribute) and n.attr == "compare_digest" for n in ast.walk(function))
    plain = False
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            names = " ".join(ast.unparse(x) for x in (node.left, *node.comparators)).lower()
            plain = plain or any(w in names for w in ("signature", "digest", "expected", "token", "secret"))
    return uses_digest, plain


def test_every_signature_check_is_constant_time() -> None:
    checked = []
    for module in (ROOT / "channels").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith(("verify", "_verify")):
                uses_digest, plain = _compares(node)
                checked.append(f"{module.name}:{node.name}")
                assert not plain, f"{module.name}:{node.name} compares a secret with =="
                if "signature" in node.name or "subscription" in node.name:
                    assert uses_digest, f"{module.name}:{node.name} does not use hmac.compare_digest"
    assert len(checked) >= 4, checked


def _mention(post_id: str) -> bytes:
    event = {
        "id_str": post_id,
        "text": "@acme where is my parcel",
        "user": {"id_str": "6253282", "screen_name": "maria", "followers_count": 40},
        "timestamp_ms": str(int(time.time() * 1000)),
    }
    return json.dumps({"for_user_id": "783214", "tweet_create_events": [event]}).encode()


def _fb_comment(comment_id: str) -> bytes:
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": comment_id,
        "post_id": "448242228374517_987654321",
        "parent_id": "448242228374517_987654321",
        "from": {"id": "555666777", "name": "John Doe"},
        "message": "Is the soup vegan?",
        "created_time": int(time.time()),
    }
    entry = {
        "id": "448242228374517",
        "time": int(time.time()),
        "changes": [{"field": "feed", "value": value}],
    }
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def _count(engine: object, model: object) -> int:
    with Session(engine) as s:  # type: ignore[call-overload]
        return int(s.exec(select(func.count()).select_from(model)).one())


@pytest.mark.asyncio
async def test_a_delivery_replayed_later_is_deduplicated(served: Served, engine: object) -> None:
    generic = json.dumps(
        {
            "platform_id": "g-1",
            "account": "acme",
            "author": {"handle": "jo"},
            "text": "hi",
            "created_at": "2026-11-20T10:30:00Z",
        }
    )
    deliveries = [
        ("/webhooks/x", _mention("1307025659294674999"), x_headers),
        ("/webhooks/facebook", _fb_comment("987654321_1"), fb_headers),
        (f"/ingest/{SOURCE}", generic.encode(), ingest_headers),
    ]
    for path, raw, sign in deliveries:
        async with served.http.post(path, data=raw, headers=sign(raw)) as r:
            assert r.status == 200 and (await r.json())["status"] == "accepted", await r.text()
    await webhooks.wait_idle(served.server.app)
    stored = _count(engine, Post)
    assert stored == 3
    # Later (after processing), the same deliveries again: X and Facebook resend the same body and
    # signature; a generic sender re-signs with a fresh timestamp. Nothing new is stored.
    for path, raw, sign in deliveries:
        async with served.http.post(path, data=raw, headers=sign(raw)) as r:
            assert r.status == 200 and (await r.json())["status"] == "duplicate"
    await webhooks.wait_idle(served.server.app)
    assert _count(engine, Post) == stored and _count(engine, InboxEvent) == 3


@pytest.mark.asyncio
async def test_generic_delivery_with_an_old_or_future_timestamp_is_refused(
    served: Served, engine: object
) -> None:
    raw = json.dumps({"platform_id": "g-2", "account": "acme", "author": {"handle": "jo"}}).encode()
    now = int(time.time())
    for ts in (now - 330, now - 86_400, now + 330, 0):  # the window is 300 s; a slow request must not slip in
        async with served.http.post(f"/ingest/{SOURCE}", data=raw, headers=ingest_headers(raw, str(ts))) as r:
            assert r.status == 401
            assert "Timestamp" in (await r.json())["error"]["reason"]
    assert _count(engine, InboxEvent) == 0
