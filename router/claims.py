"""Claims: a lease on a case. Taking one is a single conditional UPDATE, so two requests (or two
processes) can never both win; an expired lease is free to take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from router import audit
from router.models import BigId, Case
from router.timeutil import UTCDateTime, utcnow
from router.users import Principal


class Claim(SQLModel, table=True):
    """One row per case ever claimed; `holder_id` is NULL when released."""

    __tablename__ = "case_claims"

    case_id: int = Field(sa_type=BigId, foreign_key="cases.id", primary_key=True)
    holder_id: int | None = Field(default=None, sa_type=BigId, index=True)
    holder_name: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


@dataclass(frozen=True, slots=True)
class Holder:
    user_id: int
    name: str
    since: datetime
    expires_at: datetime

    def message(self) -> str:
        return f"held by {self.name} since {self.since:%H:%M} UTC"


class ClaimConflict(Exception):
    def __init__(self, holder: Holder) -> None:
        super().__init__(holder.message())
        self.holder = holder


def holder(session: Session, case_id: int, *, now: datetime | None = None) -> Holder | None:
    row = session.get(Claim, case_id)
    now = now or utcnow()
    if row is None or row.holder_id is None or row.expires_at is None or row.expires_at <= now:
        return None
    assert row.holder_name is not None and row.claimed_at is not None
    return Holder(row.holder_id, row.holder_name, row.claimed_at, row.expires_at)


def holders(session: Session, case_ids: list[int]) -> dict[int, Holder]:
    now = utcnow()
    rows = session.exec(
        select(Claim).where(col(Claim.case_id).in_(case_ids), col(Claim.expires_at) > now)
    ).all()
    return {
        r.case_id: Holder(r.holder_id, r.holder_name, r.claimed_at, r.expires_at)  # type: ignore[arg-type]
        for r in rows
        if r.holder_id is not None
    }


def claim(
    session: Session, *, case_id: int, user: Principal, lease: timedelta, action: str = "case.claimed"
) -> Holder:
    """Take or renew the lease; raises ClaimConflict naming the holder when someone else has it."""
    now = utcnow()
    expires = now + lease
    renewed = session.execute(
        update(Claim)
        .where(col(Claim.case_id) == case_id, col(Claim.holder_id) == user.id, col(Claim.expires_at) > now)
        .values(expires_at=expires)
    )
    if renewed.rowcount == 1:  # type: ignore[attr-defined]
        found = holder(session, case_id, now=now)
        assert found is not None
        return found
    taken = session.execute(
        update(Claim)
        .where(
            col(Claim.case_id) == case_id,
            or_(col(Claim.holder_id).is_(None), col(Claim.expires_at) <= now),
        )
        .values(holder_id=user.id, holder_name=user.name, claimed_at=now, expires_at=expires)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        if session.get(Claim, case_id) is None:
            try:
                with session.begin_nested():
                    session.add(
                        Claim(
                            case_id=case_id,
                            holder_id=user.id,
                            holder_name=user.name,
                            claimed_at=now,
                            expires_at=expires,
                        )
                    )
            except IntegrityError:  # another request inserted the first claim at the same moment
                pass
            else:
                return _won(session, case_id, user, now, expires, action)
        session.expire_all()
        current = holder(session, case_id, now=now)
        if current is not None and current.user_id != user.id:
            raise ClaimConflict(current)
        return claim(session, case_id=case_id, user=user, lease=lease, action=action)
    return _won(session, case_id, user, now, expires, action)


def _won(
    session: Session, case_id: int, user: Principal, now: datetime, expires: datetime, action: str
) -> Holder:
    _set_assignee(session, case_id, user.name)
    audit.record(session, action=action, actor=user.name, case_id=case_id, lease_until=expires.isoformat())
    return Holder(user.id, user.name, now, expires)


def require(session: Session, *, case_id: int, user: Principal, lease: timedelta) -> Holder:
    """Before acting on a case: the caller holds it (claiming it if free), or ClaimConflict."""
    return claim(session, case_id=case_id, user=user, lease=lease)


def release(session: Session, *, case_id: int, user: Principal, force: bool = False) -> bool:
    query = update(Claim).where(col(Claim.case_id) == case_id)
    if not force:
        query = query.where(col(Claim.holder_id) == user.id)
    done = session.execute(query.values(holder_id=None, holder_name=None, claimed_at=None, expires_at=None))
    if done.rowcount:  # type: ignore[attr-defined]
        _set_assignee(session, case_id, None)
        audit.record(session, action="case.released", actor=user.name, case_id=case_id)
        return True
    return False


def expire_leases(session: Session) -> list[int]:
    """Return idle cases to the queue: clear leases that ran out (and the case's assignee)."""
    now = utcnow()
    stale = session.exec(
        select(Claim).where(col(Claim.holder_id).is_not(None), col(Claim.expires_at) <= now)
    ).all()
    freed = []
    for row in stale:
        done = session.execute(
            update(Claim)
            .where(col(Claim.case_id) == row.case_id, col(Claim.expires_at) <= now)
            .values(holder_id=None, holder_name=None, claimed_at=None, expires_at=None)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            _set_assignee(session, row.case_id, None)
            audit.record(session, action="case.lease_expired", case_id=row.case_id, holder=row.holder_name)
            freed.append(row.case_id)
    return freed


def held_count(session: Session, user_id: int) -> int:
    now = utcnow()
    return len(
        session.exec(
            select(Claim.case_id).where(col(Claim.holder_id) == user_id, col(Claim.expires_at) > now)
        ).all()
    )


def _set_assignee(session: Session, case_id: int, name: str | None) -> None:
    session.execute(update(Case).where(col(Case.id) == case_id).values(assignee=name, updated_at=utcnow()))
