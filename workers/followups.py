"""What the router schedules after an ingest commits."""

from __future__ import annotations

from router.ingest import IngestResult
from workers import audit, timers
from workers.queues import AUDIT, enqueue_once


def after_ingest(result: IngestResult) -> None:
    enqueue_once(AUDIT, "audit-seal", audit.seal_pending)
    if result.changed_case_ids:
        timers.cases_changed(result.changed_case_ids)  # SLA timers follow the new due times
