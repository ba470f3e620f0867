"""The audit actions the reports read. The queue (claims, approvals, handoffs) and the SLA/paging
work write these; a name missing here is simply not counted, so keep this list in step."""

from __future__ import annotations

import re

HANDOFF = ("case.handoff",)
CLAIM = ("case.claimed", "case.assigned")  # someone holds the case from this moment
RELEASE = ("case.released", "case.unassigned", "case.claim_expired")  # …and no longer
APPROVAL_REQUESTED = ("reply.approval_requested", "reply.drafted", "case.approval_requested")
APPROVAL_DONE = ("reply.approved", "reply.rejected", "case.approved")
PAGED = ("pr.paged", "page.sent", "page.triggered", "incident.opened")
ACKNOWLEDGED = ("pr.acknowledged", "page.acknowledged", "incident.acknowledged")

_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def sql_list(actions: tuple[str, ...]) -> str:
    """A literal SQL list of action names (constants from this module, checked to be plain)."""
    assert actions and all(_NAME.match(a) for a in actions), actions
    return "(" + ", ".join(f"'{a}'" for a in actions) + ")"
