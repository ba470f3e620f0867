"""Running one escalation stage on a case: every action is an audit event on the case, in the
timer job's transaction; paging happens after the commit (an incident, one per thread or breach).

Actions:
- notify_assignee: `sla.notified` to the assignee (or the queue when nobody holds the case); the
  live queue shows it on the case, as it shows every audit event.
- raise_priority: one step more urgent (never past urgent), `case.priority_raised`.
- reassign_to_lead: the queue lead takes the case (their claim replaces any other), `case.assigned`.
- page_manager / page_pr: an incident paged to the manager or PR rotation (workers/paging/incidents).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from router import audit, claims
from router.models import Case
from router.roles import Role
from router.sla.ladder import Timer
from router.sla.policy import Action, SlaConfig
from router.users import Principal, User
from rules.outcome import Priority
from workers.paging.base import Severity

ACTOR = "sla"
LEAD_LEASE = timedelta(hours=1)
Effect = Callable[[], None]


def run_stage(
    session: Session, case: Case, timer: Timer, config: SlaConfig, *, now: datetime
) -> list[Effect]:
    """Apply the stage's actions; returns what must run after the commit."""
    assert case.id is not None
    stage = timer.stage
    audit.record(
        session,
        action="sla.escalated",
        actor=ACTOR,
        case_id=case.id,
        at=now,
        timer=timer.key,
        clock=timer.clock,
        stage=stage.name,
        at_offset=stage.at.text,
        due_at=timer.due_at.isoformat(),
        breached=timer.fire_at >= timer.due_at,
        late_seconds=round(max(0.0, (now - timer.fire_at).total_seconds()), 1),
        actions=[a.value for a in stage.do],
    )
    effects: list[Effect] = []
    for action in stage.do:
        if action is Action.NOTIFY_ASSIGNEE:
            audit.record(
                session,
                action="sla.notified",
                actor=ACTOR,
                case_id=case.id,
                at=now,
                to=case.assignee or f"queue:{case.queue}",
                stage=stage.name,
                due_at=timer.due_at.isoformat(),
            )
        elif action is Action.RAISE_PRIORITY:
            _raise_priority(session, case, now)
        elif action is Action.REASSIGN_TO_LEAD:
            _reassign_to_lead(session, case, config, now)
        elif action in (Action.PAGE_MANAGER, Action.PAGE_PR):
            effects.append(_page(case, timer, config, action))
    return effects


def _raise_priority(session: Session, case: Case, now: datetime) -> None:
    before = case.priority
    case.priority = max(Priority.URGENT.value, before - 1)
    case.updated_at = now
    session.add(case)
    if case.priority != before:
        audit.record(
            session,
            action="case.priority_raised",
            actor=ACTOR,
            case_id=case.id,
            at=now,
            **{"from": Priority(before).label, "to": Priority(case.priority).label},
        )


def _reassign_to_lead(session: Session, case: Case, config: SlaConfig, now: datetime) -> None:
    assert case.id is not None
    lead = config.lead(case.queue)
    if lead is None or case.assignee == lead:
        return
    user = session.exec(select(User).where(col(User.name) == lead, col(User.active).is_(True))).first()
    previous = case.assignee
    if user is None or user.id is None:  # a lead who has no account yet: name them on the case
        case.assignee = lead
        case.updated_at = now
        session.add(case)
        audit.record(
            session, action="case.assigned", actor=ACTOR, case_id=case.id, at=now, to=lead, previous=previous
        )
        return
    principal = Principal(id=user.id, name=user.name, role=Role(user.role))
    session.flush()
    claims.release(session, case_id=case.id, user=principal, force=True)
    claims.claim(session, case_id=case.id, user=principal, lease=LEAD_LEASE, action="case.assigned")
    session.refresh(case)


def _page(case: Case, timer: Timer, config: SlaConfig, action: Action) -> Effect:
    from workers.paging import incidents

    case_id, queue, stage = case.id, case.queue, timer.stage.name
    assert case_id is not None
    rotation = config.paging.manager_rotation if action is Action.PAGE_MANAGER else config.paging.rotation
    breached = "breached" if timer.fire_at >= timer.due_at else "at risk"
    due = f"{timer.due_at:%Y-%m-%d %H:%M} UTC"
    summary = f"Case {case_id} in {queue}: {timer.clock} response {breached} (due {due})"
    key = f"breach:{case_id}:{timer.clock}" if action is Action.PAGE_MANAGER else None

    def page() -> None:
        incidents.open_or_join(
            case_id,
            rotation=rotation,
            summary=summary,
            severity=Severity.ERROR,
            reason=f"stage {stage}",
            key=key,
        )

    return page
