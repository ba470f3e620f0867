"""The clock on sample timelines: due times, pauses, the policy version a case keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from router.models import CaseStatus
from router.settings import RULES_PACKAGE_DIR
from router.sla.clock import apply_due_times, reapply, update_pauses
from router.sla.policy import load_sla_config, parse_sla_config
from router.threads import apply_post_times

SLA = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # not part of the arithmetic
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_case(policy: str = "urgent") -> SimpleNamespace:
    return SimpleNamespace(
        status=CaseStatus.NEW.value,
        sla_policy=policy,
        first_post_id=None,
        first_inbound_at=None,
        first_response_at=None,
        last_inbound_at=None,
        last_response_at=None,
        first_response_due_at=None,
        next_response_due_at=None,
        resolution_due_at=None,
        next_due_at=None,
        sla_policy_version=None,
        sla_pauses=[],
    )


def post(case: SimpleNamespace, direction: str, when: datetime, config=SLA) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """What an ingest path does for one post."""
    apply_post_times(case, 1, direction, when)
    update_pauses(case, direction, when)
    apply_due_times(case, config, NOW)
    return case


def test_a_conversation_on_the_urgent_policy() -> None:
    # urgent: 15m first, 15m next, 8h resolution, on the 24x7 UTC calendar.
    case = post(new_case(), "inbound", at(0))
    assert (case.first_response_due_at, case.next_response_due_at) == (at(15), None)
    assert case.resolution_due_at == at(8 * 60)  # 10:00 + 8 h = 18:00
    assert case.next_due_at == at(15)
    assert case.sla_policy_version == SLA.policy("urgent").version

    post(case, "outbound", at(10))  # we answer at 10:10: the clock waits on the customer
    assert case.sla_pauses == [[at(10).isoformat(), None]]
    assert case.first_response_due_at == at(15)  # kept for reports, no longer running
    assert (case.next_response_due_at, case.resolution_due_at, case.next_due_at) == (None, None, None)

    post(case, "inbound", at(60))  # the customer is back at 11:00: pause 10:10-11:00 (50 minutes)
    assert case.sla_pauses == [[at(10).isoformat(), at(60).isoformat()]]
    assert case.next_response_due_at == at(75)  # 11:00 + 15m
    assert case.resolution_due_at == at(8 * 60 + 50)  # 18:00 + the 50 paused minutes = 18:50
    assert case.next_due_at == at(75)

    post(case, "inbound", at(65))  # a second post does not restart the next-response clock
    assert case.next_response_due_at == at(75)

    post(case, "outbound", at(72))
    assert case.sla_pauses[-1] == [at(72).isoformat(), None]
    assert (case.next_response_due_at, case.next_due_at) == (None, None)

    case.status = CaseStatus.RESOLVED.value
    post(case, "inbound", at(200))  # a post on a resolved case: nothing is owed until it reopens
    assert (case.next_response_due_at, case.next_due_at) == (None, None)


def test_standard_counts_support_hours_friday_evening() -> None:
    # standard: 60m first on support-uk (Mon-Fri 08:00-12:30, 13:30-20:00, Sat 10:00-16:00, London).
    # Fri 2026-11-20 19:30 GMT: 30 minutes to 20:00, 30 more from Sat 10:00 -> Sat 10:30 GMT.
    case = post(new_case("standard"), "inbound", datetime(2026, 11, 20, 19, 30, tzinfo=UTC))
    assert case.first_response_due_at == datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    # Resolution 3d = 4320 business minutes. Weekdays are 270 + 390 = 660 minutes. Fri 30 + Sat 360
    # + Mon..Fri 5 x 660 + Sat 28th 360 = 4050 by Sat 28th 16:00; Mon 30th 08:00 + the last 270 ->
    # 12:30 GMT, the end of the morning range (the earliest instant the time has run out).
    assert case.resolution_due_at == datetime(2026, 11, 30, 12, 30, tzinfo=UTC)


def test_a_breach_before_the_pause_is_still_known() -> None:
    # urgent resolution 8h from 10:00 = 18:00; our first answer at 19:00 opens a pause after that.
    case = post(new_case(), "inbound", at(0))
    post(case, "outbound", at(9 * 60))
    assert case.resolution_due_at == at(8 * 60)
    assert case.next_due_at == at(8 * 60)  # resolution still runs and is breached


def test_an_unknown_policy_gets_the_default() -> None:
    case = post(new_case("no-such-policy"), "inbound", at(0))
    assert SLA.default_policy == "standard"
    assert case.sla_policy_version == SLA.policy("standard").version
    assert case.first_response_due_at == at(60)  # Monday 10:00 GMT + 60 business minutes


def test_the_case_keeps_the_version_it_started_under() -> None:
    changed = parse_sla_config(
        (RULES_PACKAGE_DIR / "sla.yaml").read_text().replace("first_response: 15m", "first_response: 30m")
    )
    assert changed.policy("urgent").version != SLA.policy("urgent").version
    case = post(new_case(), "inbound", at(0))
    post(case, "inbound", at(5), config=changed)
    assert case.sla_policy_version == SLA.policy("urgent").version  # kept
    assert case.first_response_due_at == at(30)  # the live definition times it
    case.sla_policy = "standard"  # e.g. routing moved it: a new policy, a new version
    apply_due_times(case, changed, NOW)
    assert case.sla_policy_version == changed.policy("standard").version
    case.sla_policy = "urgent"
    reapply(case, changed, NOW)  # a handoff re-applies the current definition
    assert case.sla_policy_version == changed.policy("urgent").version


def test_no_timeline_or_no_policies_means_no_due_times() -> None:
    case = new_case()
    apply_due_times(case, SLA, NOW)
    assert (case.first_response_due_at, case.next_due_at, case.sla_policy_version) == (None, None, None)
    only_calendars = parse_sla_config("calendars: {always: {timezone: UTC, hours: 24x7}}")
    case = post(new_case(), "inbound", at(0), config=only_calendars)
    assert (case.first_response_due_at, case.next_due_at) == (None, None)
    with pytest.raises(ValueError, match="aware"):
        apply_due_times(case, SLA, datetime(2026, 1, 1))


def test_an_outbound_post_before_the_customer_spoke_opens_no_pause() -> None:
    case = post(new_case(), "inbound", at(30))
    update_pauses(case, "outbound", at(10))  # our reply, timestamped before the customer's post
    assert case.sla_pauses == []
    update_pauses(case, "outbound", at(40))
    update_pauses(case, "inbound", at(35))  # earlier than the pause: it does not close it
    assert case.sla_pauses == [[at(40).isoformat(), None]]
