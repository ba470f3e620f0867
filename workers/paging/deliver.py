"""Sending one page through one transport, as an RQ job with retries: a transport that fails
is retried on its own, so the others do not send twice."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rq import Retry

from workers.paging.base import Page, PageAction, Severity
from workers.paging.registry import PagerSettings, configured_pagers
from workers.queues import PAGING, queue

if TYPE_CHECKING:
    from workers.paging.incidents import Incident

log = logging.getLogger(__name__)

RETRY = Retry(max=4, interval=[10, 30, 60, 300])


class DeliveryFailed(Exception):
    """A retryable failure: raising lets RQ retry the job."""


def send_to_all(incident: Incident, action: PageAction, *, to: str, number: int, at: datetime) -> list[str]:
    """Enqueue one delivery job per configured transport; returns their names."""
    from workers.paging.incidents import page_job_id

    names = [pager.name for pager in configured_pagers(PagerSettings())]
    page = {
        "dedup_key": incident.key,
        "action": action.value,
        "summary": incident.summary,
        "severity": incident.severity.value,
        "to": to,
        "details": {"case": incident.case_id, "page": number, "signals": incident.signals},
        "at": at.isoformat(),
    }
    q = queue(PAGING)
    for name in names:
        job = f"{page_job_id(incident.key, number)}-{action.value}-{name}"
        q.enqueue(deliver, name, page, job_id=job, retry=RETRY, result_ttl=3600, failure_ttl=7 * 24 * 3600)
    return names


def deliver(transport: str, page: dict[str, Any]) -> dict[str, Any]:
    """RQ job: send `page` through `transport`; raises DeliveryFailed when a retry may help."""
    pager = next((p for p in configured_pagers(PagerSettings()) if p.name == transport), None)
    if pager is None:
        return {"ok": False, "message": f"transport {transport} is no longer configured"}
    built = Page(
        dedup_key=page["dedup_key"],
        action=PageAction(page["action"]),
        summary=page["summary"],
        severity=Severity(page["severity"]),
        to=page.get("to"),
        link=page.get("link"),
        details=page.get("details") or {},
        at=datetime.fromisoformat(page["at"]),
    )
    result = asyncio.run(pager.send(built))
    if not result.ok and result.retryable:
        raise DeliveryFailed(f"{transport}: {result.status} {result.message}")
    if not result.ok:
        log.error("page %s via %s refused: %s %s", built.dedup_key, transport, result.status, result.message)
    return {"ok": result.ok, "status": result.status, "message": result.message}
