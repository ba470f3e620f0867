"""A person's change to a case moves its SLA clocks: a handoff runs under the new queue's policy,
a resolved case owes nothing, a reopened one owes again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from router.ingest import Ingestor
from router.roles import Role
from tests.queue.conftest import QueueRouter, World


@pytest.mark.asyncio
async def test_handoff_to_pr_applies_the_urgent_policy_and_resolve_stops_the_clocks(world: World) -> None:
    # Most queue tests set due times by hand; this one lets ingest time the case as in production.
    world.services.__dict__["ingestor"] = Ingestor(
        engine=world.engine, router=QueueRouter(), sla=world.services.sla
    )
    case_id = world.case("where is my parcel?")
    before = world.get_case(case_id)
    assert before.sla_policy == "standard" and before.next_due_at is not None  # the queue double's policy

    status, _ = await world.call(
        "POST",
        f"/api/cases/{case_id}/handoff",
        Role.FORUM_MANAGER,
        json={"queue": "pr", "reason": "a journalist is asking"},
    )
    assert status == 200
    handed = world.get_case(case_id)
    assert (handed.queue, handed.sla_policy) == ("pr", "urgent")
    assert handed.sla_policy_version and handed.sla_policy_version.startswith("urgent")
    # urgent: 15 minutes round the clock from the customer's post
    assert handed.first_response_due_at == handed.first_inbound_at + timedelta(minutes=15)

    status, _ = await world.call("POST", f"/api/cases/{case_id}/resolve", Role.MANAGER, json={})
    assert status == 200 and world.get_case(case_id).next_due_at is None

    status, _ = await world.call("POST", f"/api/cases/{case_id}/reopen", Role.MANAGER, json={})
    assert status == 200 and world.get_case(case_id).next_due_at == handed.next_due_at
