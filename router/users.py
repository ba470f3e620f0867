"""People who work the queue: users, their API tokens (stored hashed) and browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from router import audit
from router.models import BigId
from router.roles import Role
from router.timeutil import UTCDateTime, utcnow

TOKEN_PREFIX = "eng_"
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password")  # equal work for unknown names: no user enumeration


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name", name="uq_users_name"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=40)
    password_hash: str | None = Field(default=None, max_length=300)
    active: bool = True
    available: bool = Field(default=False, description="takes pushed cases")
    capacity: int = Field(default=5, description="most cases held at once in push mode")
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token. Only its SHA-256 is kept: tokens are 256 random bits, so a fast hash is
    enough and lets a request find its token with one indexed lookup."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    user_id: int = Field(sa_type=BigId, foreign_key="users.id", index=True)
    token_sha256: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A browser login. The cookie holds a random secret; the table holds its SHA-256."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    secret_sha256: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(sa_type=BigId, foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    id: int
    name: str
    role: Role
    csrf_token: str | None = None  # set for cookie sessions, which must prove CSRF on writes


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(
    session: Session, *, name: str, role: Role, password: str | None = None, actor: str = audit.SYSTEM
) -> tuple[User, str]:
    """Creates the user and a first API token; the token is returned once and never stored."""
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise ValueError(f"user {name!r} already exists")
    user = User(name=name, role=role.value, password_hash=_hasher.hash(password) if password else None)
    session.add(user)
    session.flush()
    assert user.id is not None
    token = issue_token(session, user_id=user.id)
    audit.record(session, action="user.created", actor=actor, user=name, role=role.value)
    return user, token


def issue_token(session: Session, *, user_id: int) -> str:
    token = new_token()
    session.add(ApiToken(user_id=user_id, token_sha256=_sha256(token)))
    return token


def _principal(user: User, csrf: str | None = None) -> Principal:
    assert user.id is not None
    return Principal(id=user.id, name=user.name, role=Role(user.role), csrf_token=csrf)


def by_token(session: Session, token: str) -> Principal | None:
    row = session.exec(
        select(User)
        .join(ApiToken)
        .where(ApiToken.token_sha256 == _sha256(token), ApiToken.revoked_at == None)  # noqa: E711
    ).first()
    return _principal(row) if row is not None and row.active else None


def check_password(session: Session, *, name: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.name == name)).first()
    stored = user.password_hash if user is not None and user.active else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if stored else None


def start_session(session: Session, *, user: User, lifetime: timedelta) -> tuple[str, str]:
    """Returns (cookie secret, CSRF token)."""
    assert user.id is not None
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            secret_sha256=_sha256(secret), user_id=user.id, csrf_token=csrf, expires_at=utcnow() + lifetime
        )
    )
    audit.record(session, action="user.login", actor=user.name)
    return secret, csrf


def by_session(session: Session, secret: str) -> Principal | None:
    row = session.exec(
        select(User, WebSession)
        .join(WebSession)
        .where(WebSession.secret_sha256 == _sha256(secret), WebSession.expires_at > utcnow())
    ).first()
    if row is None or not row[0].active:
        return None
    return _principal(row[0], row[1].csrf_token)


def end_session(session: Session, secret: str) -> None:
    row = session.exec(select(WebSession).where(WebSession.secret_sha256 == _sha256(secret))).first()
    if row is not None:
        session.delete(row)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())
