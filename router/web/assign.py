"""Push mode: new cases go round-robin to available users who work their queue, up to each
user's capacity. A pushed case is an ordinary claim, so it returns to the queue when idle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from router import claims
from router.claims import ClaimConflict
from router.models import Case, CaseStatus
from router.roles import AGENTS, Role, can_see
from router.timeutil import utcnow
from router.users import Principal, User

BATCH = 50
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def assign_new(session: Session, *, lease: timedelta) -> list[tuple[int, str]]:
    cases = session.exec(
        select(Case)
        .where(Case.status == CaseStatus.NEW, col(Case.assignee).is_(None), col(Case.queue) != "")
        .order_by(col(Case.priority), col(Case.id))
        .limit(BATCH)
    ).all()
    if not cases:
        return []
    people = [
        u
        for u in session.exec(
            select(User).where(col(User.active).is_(True), col(User.available).is_(True))
        ).all()
        if Role(u.role) in AGENTS
    ]
    load = {u.id or 0: claims.held_count(session, u.id or 0) for u in people}
    assigned = []
    for case in cases:
        eligible = [u for u in people if can_see(Role(u.role), case) and load[u.id or 0] < u.capacity]
        if not eligible or case.id is None:
            continue
        user = min(eligible, key=lambda u: (u.last_assigned_at or _NEVER, u.id or 0))
        assert user.id is not None
        try:
            claims.claim(
                session,
                case_id=case.id,
                user=Principal(user.id, user.name, Role(user.role)),
                lease=lease,
                action="case.assigned",
            )
        except ClaimConflict:
            continue
        load[user.id] += 1
        user.last_assigned_at = utcnow()
        session.add(user)
        assigned.append((case.id, user.name))
    return assigned
