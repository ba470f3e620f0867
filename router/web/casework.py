"""What people do to cases, shared by the JSON API and the pages: each function checks what it
needs, changes the case and leaves one audit event. Callers commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from router import audit, claims, threads
from router.claims import ClaimConflict
from router.errors import ApiError
from router.models import OPEN_STATUSES, Case, CaseStatus
from router.notes import Note
from router.roles import ALL_QUEUES, can_see
from router.sla.clock import apply_due_times, reapply
from router.sla.policy import SlaConfig
from router.timeutil import utcnow
from router.users import Principal

MAX_TAGS = 20


def conflict_error(exc: ClaimConflict) -> ApiError:
    h = exc.holder
    return ApiError(409, "held", h.message(), holder=h.name, since=h.since.isoformat())


def load(session: Session, case_id: int, user: Principal) -> Case:
    case = threads.live_case(session, case_id)
    if case is None:
        raise ApiError(404, "not_found", f"no case {case_id}")
    if not can_see(user.role, case):
        raise ApiError(
            403, "forbidden", f"case {case_id} is in queue {case.queue}, which {user.role} does not work"
        )
    return case


def _not_held_by_other(session: Session, case: Case, user: Principal) -> None:
    assert case.id is not None
    holder = claims.holder(session, case.id)
    if holder is not None and holder.user_id != user.id:
        raise conflict_error(ClaimConflict(holder))


def claim(session: Session, case: Case, user: Principal, lease: timedelta) -> claims.Holder:
    assert case.id is not None
    if case.status not in OPEN_STATUSES:
        raise ApiError(409, "closed", f"case {case.id} is {case.status}; reopen it first")
    try:
        return claims.claim(session, case_id=case.id, user=user, lease=lease)
    except ClaimConflict as exc:
        raise conflict_error(exc) from None


SLA_CONFIG = "sla_config"  # key of Session.info where request sessions carry the SLA config


def _retime(session: Session, case: Case, *, queue_changed: bool = False) -> None:
    """Move the case's clocks after a person changed it: a resolved case owes nothing; a case
    handed to another queue runs under that queue's policy from now on."""
    config: SlaConfig | None = session.info.get(SLA_CONFIG)
    if config is None:
        return
    if queue_changed and (policy := config.policy_for_queue(case.queue)):
        case.sla_policy = policy
        reapply(case, config, utcnow())
    else:
        apply_due_times(case, config, utcnow())


def handoff(session: Session, case: Case, user: Principal, *, to: str, reason: str) -> None:

    if to not in ALL_QUEUES:
        raise ApiError(422, "bad_queue", f"queue must be one of {', '.join(sorted(ALL_QUEUES))}")
    if to == case.queue:
        raise ApiError(422, "same_queue", f"case {case.id} is already in {to}")
    if not reason.strip():
        raise ApiError(422, "reason_required", "a handoff needs a reason")
    _not_held_by_other(session, case, user)
    assert case.id is not None
    previous = case.queue
    case.queue, case.updated_at = to, utcnow()
    _retime(session, case, queue_changed=True)
    session.add(case)
    audit.record(
        session,
        action="case.handoff",
        actor=user.name,
        case_id=case.id,
        from_queue=previous,
        to_queue=to,
        reason=reason,
    )
    claims.release(session, case_id=case.id, user=user, force=True)  # the new queue picks it up


def resolve(session: Session, case: Case, user: Principal) -> None:
    if case.status not in OPEN_STATUSES:
        raise ApiError(409, "not_open", f"case {case.id} is {case.status}")
    _not_held_by_other(session, case, user)
    assert case.id is not None
    case.status, case.resolved_at, case.updated_at = CaseStatus.RESOLVED, utcnow(), utcnow()
    _retime(session, case)
    session.add(case)
    audit.record(session, action="case.resolved", actor=user.name, case_id=case.id)
    claims.release(session, case_id=case.id, user=user, force=True)


def reopen(session: Session, case: Case, user: Principal) -> None:
    if case.status != CaseStatus.RESOLVED:
        raise ApiError(409, "not_resolved", f"case {case.id} is {case.status}")
    case.status, case.resolved_at, case.updated_at = CaseStatus.OPEN, None, utcnow()
    _retime(session, case)
    session.add(case)
    audit.record(session, action="case.reopened", actor=user.name, case_id=case.id)


def add_note(session: Session, case: Case, user: Principal, text: str) -> Note:
    text = text.strip()
    if not 1 <= len(text) <= 10_000:
        raise ApiError(422, "bad_note", "a note is 1..10000 characters")
    assert case.id is not None
    note = Note(case_id=case.id, author=user.name, text=text)
    session.add(note)
    session.flush()
    audit.record(session, action="case.note_added", actor=user.name, case_id=case.id, note_id=note.id)
    return note


def set_tags(
    session: Session, case: Case, user: Principal, *, add: list[str], remove: list[str]
) -> list[str]:
    clean = [t.strip().lower()[:40] for t in add if t.strip()]
    tags = [t for t in (case.tags or []) if t not in remove]
    tags += [t for t in clean if t not in tags]
    if len(tags) > MAX_TAGS:
        raise ApiError(422, "too_many_tags", f"at most {MAX_TAGS} tags")
    if tags != list(case.tags or []):
        case.tags, case.updated_at = tags, utcnow()
        session.add(case)
        audit.record(
            session, action="case.tagged", actor=user.name, case_id=case.id, add=clean, remove=remove
        )
    return tags


BULK_ACTIONS: dict[str, Callable[[Session, Case, Principal, dict[str, Any]], object]] = {
    "resolve": lambda s, c, u, p: resolve(s, c, u),
    "reopen": lambda s, c, u, p: reopen(s, c, u),
    "handoff": lambda s, c, u, p: handoff(s, c, u, to=str(p.get("to", "")), reason=str(p.get("reason", ""))),
    "tag": lambda s, c, u, p: set_tags(s, c, u, add=list(p.get("add", [])), remove=list(p.get("remove", []))),
}


def bulk(
    session: Session, user: Principal, *, ids: list[int], action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Each case on its own: one that cannot be changed is reported, the others go ahead."""
    if action not in BULK_ACTIONS:
        raise ApiError(422, "bad_action", f"action must be one of {', '.join(BULK_ACTIONS)}")
    if not 1 <= len(ids) <= 500:
        raise ApiError(422, "bad_ids", "give 1..500 case ids")
    done, refused = [], {}
    for case_id in ids:
        try:
            with session.begin_nested():
                BULK_ACTIONS[action](session, load(session, case_id, user), user, params)
            done.append(case_id)
        except ApiError as exc:
            refused[str(case_id)] = {"code": exc.code, "reason": exc.reason}
    return {"done": done, "refused": refused}
