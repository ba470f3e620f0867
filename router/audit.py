"""The one way to write an audit event. Events are appended unsealed in the caller's transaction
and sealed into the hash chain by the audit worker (workers/audit.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from router.models import AuditEvent
from router.timeutil import utcnow

SYSTEM = "system"


def record(
    session: Session,
    *,
    action: str,
    actor: str = SYSTEM,
    case_id: int | None = None,
    at: datetime | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(at=at or utcnow(), actor=actor, action=action, case_id=case_id, details=details)
    session.add(event)
    return event
