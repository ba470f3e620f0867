"""Structured JSON logs: every line carries the request id and case id in scope, and no secret."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
case_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("case_id", default=None)

MASK = "********"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "case_id": getattr(record, "case_id", None) or case_id.get(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class SecretMask(logging.Filter):
    """Replaces any configured secret value that reaches a log line, whoever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(*, json_lines: bool, level: int, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(SecretMask(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


SECRET_QUERY_PARAMS = frozenset({"hub.verify_token", "access_token", "token", "crc_token"})


class AccessLogger(AbstractAccessLogger):
    """One line per request, with its id, and with secret query parameters masked (the Facebook
    handshake carries its verify token in the query string)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        query = "&".join(
            f"{key}={MASK if key in SECRET_QUERY_PARAMS else value}" for key, value in request.query.items()
        )
        self.logger.info(
            "%s %s%s %s %.1fms",
            request.method,
            request.path,
            f"?{query}" if query else "",
            response.status,
            time * 1000,
            extra={"request_id": response.headers.get("X-Request-ID")},
        )
