"""A fake X API v2 (the subset we use), speaking the documented wire format.

Serve `FakeXApi().app()` with `aiohttp.test_utils.TestServer(app, host="127.0.0.1")`; seed users and
posts, set rate-limit budgets, inject 5xx, then inspect `requests` and `created`.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TWITTER_EPOCH_MS = 1288834974657
TWEET_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT_FIELDS = ("id", "name", "username")
PROBLEM = "application/problem+json"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class Budget:
    limit: int = 450
    remaining: int = 450
    reset: int = field(default_factory=lambda: int(time.time()) + 900)
    usage_capped: bool = False


def _token(post_id: str) -> str:
    return base64.urlsafe_b64encode(f"until:{post_id}".encode()).decode().rstrip("=")


def _untoken(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":", 1)[1]


def _problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any) -> web.Response:
    body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM)


class FakeXApi:
    def __init__(self, *, app_bearer: str = "app-bearer", authenticated_user_id: str = "783214") -> None:
        self.app_bearer = app_bearer
        self.authenticated_user_id = authenticated_user_id
        self.users: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.created: list[dict[str, Any]] = []
        self.budgets: dict[str, Budget] = {
            "search": Budget(),
            "mentions": Budget(),
            "create": Budget(limit=100),
        }
        self.failures: dict[str, list[int]] = {}
        self._seq = itertools.count(1)
        self._clock_ms = int(time.time() * 1000) - 3_600_000

    # --- seeding and control -------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        username: str,
        *,
        name: str | None = None,
        followers: int = 0,
        verified: bool = False,
        verified_type: str = "none",
    ) -> dict[str, Any]:
        user = {
            "id": user_id,
            "username": username,
            "name": name or username,
            "verified": verified,
            "verified_type": verified_type,
            "public_metrics": {"followers_count": followers, "following_count": 1, "tweet_count": 1},
        }
        self.users[user_id] = user
        return user

    def add_post(
        self,
        text: str,
        author_id: str,
        *,
        in_reply_to: str | None = None,
        lang: str = "en",
        note_text: str | None = None,
    ) -> dict[str, Any]:
        """Posts get snowflake ids from a clock that only moves forward, so newer ids are larger."""
        self._clock_ms += 1000
        post_id = str(((self._clock_ms - TWITTER_EPOCH_MS) << 22) + next(self._seq))
        parent = self.posts.get(in_reply_to or "")
        post: dict[str, Any] = {
            "id": post_id,
            "text": text[:280],
            "edit_history_tweet_ids": [post_id],
            "author_id": author_id,
            "conversation_id": (parent or {}).get("conversation_id", post_id),
            "created_at": datetime.fromtimestamp(self._clock_ms / 1000, tz=UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            ),
            "lang": lang,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
        }
        if in_reply_to:
            post["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            post["in_reply_to_user_id"] = (parent or {}).get("author_id", "0")
        if note_text:
            post["note_tweet"] = {"text": note_text}
        self.posts[post_id] = post
        return post

    def set_budget(
        self, endpoint: str, remaining: int, *, reset_in: int = 900, usage_capped: bool = False
    ) -> None:
        limit = self.budgets[endpoint].limit
        self.budgets[endpoint] = Budget(limit, remaining, int(time.time()) + reset_in, usage_capped)

    def fail_next(self, endpoint: str, status: int = 503, times: int = 1) -> None:
        self.failures.setdefault(endpoint, []).extend([status] * times)

    def calls(self, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    # --- HTTP ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_get("/2/users/{id}/mentions", self._mentions)
        app.router.add_post("/2/tweets", self._create)
        return app

    async def _gate(self, request: web.Request, endpoint: str) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        if not request.headers.get("Authorization"):
            return _problem(401, "Unauthorized", "Unauthorized")
        if self.failures.get(endpoint):
            status = self.failures[endpoint].pop(0)
            return _problem(status, "Service Unavailable", "Injected failure")
        budget = self.budgets[endpoint]
        if budget.remaining <= 0:
            type_ = "https://api.x.com/2/problems/usage-capped" if budget.usage_capped else "about:blank"
            response = _problem(429, "Too Many Requests", "Too Many Requests", type_)
            self._limit_headers(response, budget)
            return response
        budget.remaining -= 1
        return None

    @staticmethod
    def _limit_headers(response: web.StreamResponse, budget: Budget) -> None:
        response.headers["x-rate-limit-limit"] = str(budget.limit)
        response.headers["x-rate-limit-remaining"] = str(budget.remaining)
        response.headers["x-rate-limit-reset"] = str(budget.reset)

    def _respond(self, endpoint: str, status: int, body: dict[str, Any]) -> web.Response:
        response = web.json_response(body, status=status)
        self._limit_headers(response, self.budgets[endpoint])
        return response

    def _render(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {k: v for k, v in post.items() if k in TWEET_DEFAULT_FIELDS or k in fields}

    def _page(
        self,
        request: web.Request,
        endpoint: str,
        candidates: list[dict[str, Any]],
        token_param: str,
        bounds: tuple[int, int],
    ) -> web.Response:
        q = request.query
        try:
            max_results = int(q.get("max_results", "10"))
        except ValueError:
            max_results = -1
        if not bounds[0] <= max_results <= bounds[1]:
            return _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
                errors=[
                    {
                        "parameters": {"max_results": [q.get("max_results")]},
                        "message": f"max_results must be between {bounds[0]} and {bounds[1]}",
                    }
                ],
            )
        since = int(q.get("since_id", "0"))
        until = int(_untoken(q[token_param])) if q.get(token_param) else None
        matching = sorted((p for p in candidates if int(p["id"]) > since), key=lambda p: -int(p["id"]))
        if until is not None:
            matching = [p for p in matching if int(p["id"]) < until]
        page, rest = matching[:max_results], matching[max_results:]
        if not page:
            return self._respond(endpoint, 200, {"meta": {"result_count": 0}})
        tweet_fields = set(filter(None, q.get("tweet.fields", "").split(",")))
        user_fields = set(filter(None, q.get("user.fields", "").split(",")))
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if rest:
            meta["next_token"] = _token(page[-1]["id"])
        body: dict[str, Any] = {"data": [self._render(p, tweet_fields) for p in page], "meta": meta}
        if "author_id" in q.get("expansions", "").split(","):
            authors = dict.fromkeys(p["author_id"] for p in page)
            body["includes"] = {
                "users": [
                    {k: v for k, v in self.users[a].items() if k in USER_DEFAULT_FIELDS or k in user_fields}
                    for a in authors
                    if a in self.users
                ]
            }
        return self._respond(endpoint, 200, body)

    async def _search(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "search")
        if refused:
            return refused
        query = request.query.get("query", "")
        terms = [t.strip('"').lower() for t in query.split() if ":" not in t and not t.startswith("-")]
        hits = [p for p in self.posts.values() if any(t in p["text"].lower() for t in terms)]
        return self._page(request, "search", hits, "next_token", (10, 100))

    async def _mentions(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "mentions")
        if refused:
            return refused
        user = self.users.get(request.match_info["id"])
        if user is None:
            return _problem(
                404,
                "Not Found Error",
                "Could not find user",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        handle = "@" + user["username"].lower()
        hits = [
            p for p in self.posts.values() if handle in p["text"].lower() and p["author_id"] != user["id"]
        ]
        return self._page(request, "mentions", hits, "pagination_token", (5, 100))

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "create")
        if refused:
            return refused
        auth = request.headers["Authorization"]
        if auth == f"Bearer {self.app_bearer}" or not auth.startswith("OAuth "):
            return _problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        body = self.requests[-1].body or {}
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return _problem(
                400,
                "Invalid Request",
                "text is required",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        in_reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if in_reply_to is not None and in_reply_to not in self.posts:
            return _problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
                "about:blank",
            )
        post = self.add_post(text, self.authenticated_user_id, in_reply_to=in_reply_to)
        self.created.append({"id": post["id"], "text": text, "in_reply_to_tweet_id": in_reply_to})
        data = {"id": post["id"], "text": post["text"], "edit_history_tweet_ids": [post["id"]]}
        return self._respond("create", 201, {"data": data})
