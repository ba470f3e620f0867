"""One POST for the HTTP transports: bytes out, status and text back, transport faults as one error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_REPLY_CHARS = 2000


class Unreachable(Exception):
    """Nothing usable came back: connection refused, reset, DNS, timeout."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    text: str


async def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    session: aiohttp.ClientSession | None = None,
    time_limit: float = DEFAULT_TIMEOUT_SECONDS,
) -> HttpReply:
    """POST `body` as is (signatures cover these exact bytes). Redirects are not followed: a pager
    endpoint that redirects is misconfigured, and following would resend the page elsewhere."""
    own = session is None
    client = session or aiohttp.ClientSession()
    try:
        async with client.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=time_limit),
            allow_redirects=False,
        ) as response:
            text = await response.text(errors="replace")
            return HttpReply(response.status, text[:MAX_REPLY_CHARS])
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Unreachable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    finally:
        if own:
            await client.close()
