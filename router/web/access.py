"""The one table of who may call what. Every route of the app needs a row here: the auth
middleware refuses a route without a decision, and a test walks the app's route table."""

from __future__ import annotations

from typing import Literal

from router.roles import AGENTS, APPROVERS, Role

Public = Literal["public"]
PUBLIC: Public = "public"
Decision = frozenset[Role] | Public

EVERYONE = frozenset(Role)
AGENT = frozenset(AGENTS)
APPROVER = frozenset(APPROVERS)
LEADS = frozenset({Role.FORUM_MANAGER, Role.MANAGER})
ADMIN = frozenset({Role.ADMIN})
OPS = frozenset({Role.MANAGER, Role.ADMIN})
MANAGERS = frozenset({Role.MANAGER})  # reports: figures and the cases behind them

ROUTES: dict[tuple[str, str], Decision] = {
    # without authentication: health, the login page, signed webhooks, and static assets
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/webhooks/x"): PUBLIC,  # CRC challenge, signed with the consumer secret
    ("POST", "/webhooks/x"): PUBLIC,
    ("GET", "/webhooks/facebook"): PUBLIC,  # subscription handshake with the verify token
    ("POST", "/webhooks/facebook"): PUBLIC,
    ("POST", "/ingest/{source}"): PUBLIC,
    ("GET", "/static"): PUBLIC,  # stylesheet and script; no data
    # operations
    ("GET", "/readyz"): OPS,
    ("GET", "/metrics"): OPS,
    # pages
    ("POST", "/logout"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/queue/rows"): EVERYONE,
    ("GET", "/cases/{id}"): AGENT,
    ("GET", "/cases/{id}/panel"): AGENT,
    ("POST", "/cases/{id}/{action}"): AGENT,
    ("POST", "/replies/{id}/{action}"): AGENT,
    ("POST", "/bulk"): AGENT,
    ("GET", "/reports"): MANAGERS,
    ("GET", "/reports/cases"): MANAGERS,
    ("GET", "/reports/cases.csv"): MANAGERS,
    # JSON API
    ("GET", "/api/openapi.json"): EVERYONE,
    ("GET", "/api/me"): EVERYONE,
    ("POST", "/api/me/availability"): AGENT,
    ("GET", "/api/events"): EVERYONE,
    ("GET", "/api/cases"): EVERYONE,
    ("GET", "/api/counts"): EVERYONE,
    ("GET", "/api/cases/{id}"): AGENT,
    ("POST", "/api/cases/{id}/claim"): AGENT,
    ("POST", "/api/cases/{id}/release"): AGENT,
    ("POST", "/api/cases/{id}/presence"): AGENT,
    ("POST", "/api/cases/{id}/reply"): AGENT,
    ("POST", "/api/cases/{id}/handoff"): AGENT,
    ("POST", "/api/cases/{id}/resolve"): AGENT,
    ("POST", "/api/cases/{id}/reopen"): AGENT,
    ("POST", "/api/cases/{id}/notes"): AGENT,
    ("POST", "/api/cases/{id}/tags"): AGENT,
    ("POST", "/api/cases/bulk"): LEADS,
    ("POST", "/api/replies/{id}/approve"): APPROVER,
    ("POST", "/api/replies/{id}/reject"): APPROVER,
    ("POST", "/api/replies/{id}/retry"): AGENT,
    ("POST", "/api/compose/preview"): AGENT,
    ("GET", "/api/canned"): AGENT,
    ("POST", "/api/canned"): OPS,
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
}


def decision(method: str, canonical: str) -> Decision | None:
    return ROUTES.get(("GET" if method == "HEAD" else method, canonical))
