"""A fake Meta Graph API (Page feed, comments, comment replies, Messenger send) on a version prefix.

Serve `FakeGraphApi().app()` with `aiohttp.test_utils.TestServer(app, host="127.0.0.1")`. Errors use
the Graph shape {"error": {message, type, code, fbtrace_id}}; throttling uses codes 4/17/32/613.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    token: str | None


def _graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(item_id.encode()).decode()


def _uncursor(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor.encode()).decode()


def graph_error(status: int, message: str, type_: str, code: int, **extra: Any) -> web.Response:
    error = {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEfFakeTrace", **extra}
    return web.json_response({"error": error}, status=status)


class FakeGraphApi:
    def __init__(
        self,
        *,
        page_id: str = "1000",
        page_name: str = "Acme",
        page_token: str = "page-token",
        version: str = "v24.0",
    ) -> None:
        self.page_id, self.page_name, self.page_token, self.version = page_id, page_name, page_token, version
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}  # comment id -> comment (with "_post" and "_parent")
        self.requests: list[Recorded] = []
        self.replies: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.failures: list[tuple[int, int]] = []  # (http status, graph code)
        self._ids = itertools.count(100_001)
        self._clock = time.time() - 3600

    # --- seeding and control -------------------------------------------------------------------

    def _tick(self) -> float:
        self._clock += 10
        return self._clock

    def add_post(
        self, message: str, *, from_id: str | None = None, from_name: str = "Visitor"
    ) -> dict[str, Any]:
        post_id = f"{self.page_id}_{next(self._ids)}"
        author = {"id": from_id or self.page_id, "name": from_name if from_id else self.page_name}
        post = {
            "id": post_id,
            "message": message,
            "created_time": _graph_time(self._tick()),
            "from": author,
            "permalink_url": f"https://www.facebook.com/{post_id}",
        }
        self.posts[post_id] = post
        return post

    def add_comment(
        self, parent_id: str, message: str, *, from_id: str = "555666777", from_name: str = "John Doe"
    ) -> dict[str, Any]:
        post_id = parent_id if parent_id in self.posts else self.comments[parent_id]["_post"]
        comment_id = f"{post_id.split('_', 1)[1]}_{next(self._ids)}"
        comment = {
            "id": comment_id,
            "message": message,
            "created_time": _graph_time(self._tick()),
            "from": {"id": from_id, "name": from_name},
            "_post": post_id,
            "_parent": parent_id,
        }
        self.comments[comment_id] = comment
        return comment

    def throttle_next(self, code: int = 32, times: int = 1) -> None:
        self.failures.extend([(400, code)] * times)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        self.failures.extend([(status, 2)] * times)

    # --- HTTP ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{version}/{node}", self._dispatch)
        app.router.add_route("*", "/{version}/{node}/{edge}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()} if request.method == "POST" else {}
        if request.content_type == "application/json" and request.can_read_body:
            form = {
                k: json.dumps(v) if not isinstance(v, str) else v for k, v in (await request.json()).items()
            }
        auth = request.headers.get("Authorization", "")
        token = request.query.get("access_token") or form.pop("access_token", None)
        if auth.startswith(("Bearer ", "OAuth ")):
            token = auth.split(" ", 1)[1]
        self.requests.append(
            Recorded(
                request.method, request.path, dict(request.query), dict(request.headers), dict(form), token
            )
        )
        if request.match_info["version"] != self.version:
            return graph_error(400, "Unknown path components", "OAuthException", 2500)
        if not token:
            return graph_error(400, "An active access token must be used.", "OAuthException", 2500)
        if token != self.page_token:
            return graph_error(
                400, "Invalid OAuth access token - Cannot parse access token", "OAuthException", 190
            )
        if self.failures:
            status, code = self.failures.pop(0)
            if code in (4, 17, 32, 613, 80001):
                response = graph_error(
                    status, f"(#{code}) Page request limit reached", "OAuthException", code
                )
                usage = {
                    self.page_id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]
                }
                response.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
                return response
            return graph_error(
                status, "An unexpected error has occurred.", "OAuthException", code, is_transient=True
            )
        node, edge = request.match_info["node"], request.match_info.get("edge")
        handler = {
            ("GET", "feed"): self._feed,
            ("GET", "comments"): self._list_comments,
            ("POST", "comments"): self._reply,
            ("POST", "messages"): self._message,
        }.get((request.method, edge or ""))
        if handler is None:
            return graph_error(400, f"Unsupported {request.method} request.", "GraphMethodException", 100)
        response = await handler(request, node, form)
        response.headers["facebook-api-version"] = self.version
        response.headers["X-App-Usage"] = json.dumps({"call_count": 1, "total_time": 1, "total_cputime": 1})
        return response

    def _paged(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        q = request.query
        limit = int(q.get("limit", "25"))
        if q.get("after"):
            after = _uncursor(q["after"])
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page, more = items[:limit], len(items) > limit
        fields = {f.split("{")[0] for f in q.get("fields", "id").split(",")} | {"id"}
        data = []
        for item in page:
            shown = {k: v for k, v in item.items() if k in fields and not k.startswith("_")}
            if "parent" in fields and item.get("_parent") in self.comments:
                shown["parent"] = {"id": item["_parent"]}
            data.append(shown)
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0]["id"]), "after": _cursor(page[-1]["id"])}}
            if more:
                query = {k: v for k, v in q.items() if k != "after"} | {"after": _cursor(page[-1]["id"])}
                body["paging"]["next"] = str(request.url.with_query(query))
        return web.json_response(body)

    async def _feed(self, request: web.Request, node: str, form: dict[str, str]) -> web.Response:
        if node != self.page_id:
            return graph_error(
                400,
                f"Unsupported get request. Object with ID '{node}' does not exist",
                "GraphMethodException",
                100,
            )
        since = float(request.query.get("since", "0"))
        posts = [
            p for p in self.posts.values() if datetime.fromisoformat(p["created_time"]).timestamp() >= since
        ]
        return self._paged(request, sorted(posts, key=lambda p: p["created_time"], reverse=True))

    async def _list_comments(self, request: web.Request, node: str, form: dict[str, str]) -> web.Response:
        if node not in self.posts and node not in self.comments:
            return graph_error(400, f"Object with ID '{node}' does not exist", "GraphMethodException", 100)
        stream = request.query.get("filter") == "stream" and node in self.posts
        found = [
            c for c in self.comments.values() if (c["_post"] == node if stream else c["_parent"] == node)
        ]
        newest_first = request.query.get("order") == "reverse_chronological"
        return self._paged(
            request, sorted(found, key=lambda c: (c["created_time"], c["id"]), reverse=newest_first)
        )

    async def _reply(self, request: web.Request, node: str, form: dict[str, str]) -> web.Response:
        if node not in self.posts and node not in self.comments:
            return graph_error(
                400,
                f"Unsupported post request. Object with ID '{node}' does not exist",
                "GraphMethodException",
                100,
                error_subcode=33,
            )
        if not form.get("message"):
            return graph_error(400, "(#100) Missing message or attachment", "OAuthException", 100)
        comment = self.add_comment(node, form["message"], from_id=self.page_id, from_name=self.page_name)
        self.replies.append({"parent_id": node, "message": form["message"], "id": comment["id"]})
        return web.json_response({"id": comment["id"]})

    async def _message(self, request: web.Request, node: str, form: dict[str, str]) -> web.Response:
        if node != self.page_id:
            return graph_error(400, "(#100) Invalid page", "OAuthException", 100)
        recipient, message = json.loads(form.get("recipient", "{}")), json.loads(form.get("message", "{}"))
        if not recipient.get("id") or not message.get("text"):
            return graph_error(400, "(#100) The parameter recipient is required", "OAuthException", 100)
        mid = f"m_fake{next(self._ids)}"
        self.messages.append(
            {
                "recipient": recipient,
                "message": message,
                "messaging_type": form.get("messaging_type"),
                "mid": mid,
            }
        )
        return web.json_response({"recipient_id": recipient["id"], "message_id": mid})
