"""Point the platform SDKs at a configurable base URL, and keep their tokens out of logs.

tweepy hard-codes https://api.twitter.com and facebook-sdk a module constant for graph.facebook.com,
so we rewrite each request on its way out: an aiohttp client middleware for tweepy's AsyncClient and
a requests transport adapter for facebook-sdk. With the default base URL both are no-ops.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientMiddlewareType
from requests.adapters import HTTPAdapter
from yarl import URL


def _join_path(base_path: str, path: str) -> str:
    return base_path.rstrip("/") + "/" + path.lstrip("/")


def rewrite_base_middleware(origin: str, base_url: str) -> ClientMiddlewareType:
    """aiohttp middleware sending requests for `origin` (scheme://host) to `base_url` instead."""
    target = URL(base_url)
    source = URL(origin)

    async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        url = request.url
        if (url.scheme, url.host, url.port) == (source.scheme, source.host, source.port) and target != source:
            new = target.with_path(_join_path(target.path, url.raw_path), encoded=True).with_query(
                url.raw_query_string
            )
            request.url = new
            request.headers["Host"] = new.raw_authority
        return await handler(request)

    return middleware


class RewritingAdapter(HTTPAdapter):
    """requests adapter: mounted on the platform's prefix, sends to `base_url` with a default timeout.

    It also moves an `access_token` query parameter into an `Authorization: Bearer` header (accepted by
    the Graph API) so that urllib3's debug log of the request line never shows the token.
    """

    def __init__(self, prefix: str, base_url: str, timeout: float) -> None:
        super().__init__()
        self.prefix = prefix
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if url.startswith(self.prefix):
            url = self.base_url + url[len(self.prefix) :]
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        token = [v for k, v in query if k == "access_token"]
        if token:
            query = [(k, v) for k, v in query if k != "access_token"]
            request.headers["Authorization"] = f"Bearer {token[0]}"
        request.url = urlunsplit(parts._replace(query=urlencode(query)))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def rewriting_session(prefix: str, base_url: str, timeout: float) -> requests.Session:
    session = requests.Session()
    adapter = RewritingAdapter(prefix, base_url, timeout)
    session.mount(prefix, adapter)
    if not base_url.startswith(prefix):
        # the rewritten URL is sent through the session's adapter for its own scheme; keep it ours too
        session.mount(base_url if base_url.endswith("/") else base_url + "/", adapter)
    return session


_SECRETS = re.compile(r"('Authorization':\s*')[^']*'|(access_token=)[^&\s']+")


def _mask(match: re.Match[str]) -> str:
    return f"{match.group(1)}***'" if match.group(1) else f"{match.group(2)}***"


class _RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRETS.sub(_mask, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTED_LOGGERS = ("tweepy.client", "tweepy.asynchronous.client", "urllib3.connectionpool")


def install_log_redaction() -> None:
    """tweepy logs request headers (with the bearer / OAuth header) at DEBUG; mask them."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
            logger.addFilter(_RedactSecrets())
