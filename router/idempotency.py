"""`Idempotency-Key` on write requests: the first response is stored per user and key, and a
retry with the same key gets that response again instead of doing the work twice."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from router.errors import ApiError, Handler, json_error
from router.models import BigId, JSONType
from router.runtime import run_blocking, services
from router.timeutil import UTCDateTime, utcnow
from router.users import Principal

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
USER = web.RequestKey("user", Principal)  # set by the auth middleware


class IdempotentResponse(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    user_id: int = Field(sa_type=BigId)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64, description="sha256 of method, path and body")
    status: int | None = None  # None while the first request is still running
    body: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


def _reserve(engine: Any, user_id: int, key: str, fingerprint: str) -> IdempotentResponse | None:
    """Insert the placeholder; returns the earlier record when the key was used before."""
    with Session(engine, expire_on_commit=False) as session:
        session.exec(delete(IdempotentResponse).where(col(IdempotentResponse.created_at) < utcnow() - KEEP))
        session.add(IdempotentResponse(user_id=user_id, key=key, fingerprint=fingerprint))
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        return session.exec(
            select(IdempotentResponse).where(
                IdempotentResponse.user_id == user_id, IdempotentResponse.key == key
            )
        ).one()


def _store(engine: Any, user_id: int, key: str, status: int | None, body: dict[str, Any] | None) -> None:
    with Session(engine) as session:
        row = session.exec(
            select(IdempotentResponse).where(
                IdempotentResponse.user_id == user_id, IdempotentResponse.key == key
            )
        ).one()
        if status is None:  # the request failed unexpectedly: free the key for a real retry
            session.delete(row)
        else:
            row.status, row.body = status, body
            session.add(row)
        session.commit()


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get(HEADER)
    user: Principal | None = request.get(USER)
    if key is None or user is None or request.method != "POST" or not request.path.startswith("/api/"):
        return await handler(request)
    if not 1 <= len(key) <= 200:
        raise ApiError(400, "bad_idempotency_key", f"{HEADER} must be 1..200 characters")
    body = await request.read()
    fingerprint = hashlib.sha256(f"{request.method} {request.path_qs}\n".encode() + body).hexdigest()
    engine = services(request).engine
    earlier = await run_blocking(request, _reserve, engine, user.id, key, fingerprint)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise ApiError(
                422, "idempotency_key_reused", f"{HEADER} {key!r} was used for a different request"
            )
        if earlier.status is None:
            raise ApiError(
                409, "idempotency_in_progress", f"a request with {HEADER} {key!r} is still running"
            )
        replayed = web.json_response(earlier.body, status=earlier.status)
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    status: int | None = None
    stored: dict[str, Any] | None = None
    response: web.StreamResponse
    try:
        try:
            response = await handler(request)
        except ApiError as exc:
            response = json_error(exc.status, exc.code, exc.reason, **exc.extra)
        if isinstance(response, web.Response) and response.content_type == "application/json":
            status, stored = response.status, json.loads(response.body or b"null")  # type: ignore[arg-type]
        return response
    finally:
        await run_blocking(request, _store, engine, user.id, key, status, stored)
