"""Escalation timers from a case's clocks, and the on-call / paging sections of the SLA file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from router.models import CaseStatus
from router.settings import RULES_PACKAGE_DIR
from router.sla.clock import running_clocks
from router.sla.ladder import all_timer_keys, timers_for
from router.sla.policy import SlaConfigError, load_sla_config, parse_sla_config

SLA = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 in London (GMT)


def case(**kw: object) -> SimpleNamespace:
    fields: dict[str, object] = {
        "id": 7,
        "queue": "pr",
        "status": CaseStatus.NEW.value,
        "sla_policy": "urgent",
        "first_inbound_at": T0,
        "first_response_at": None,
        "last_inbound_at": T0,
        "last_response_at": None,
        "sla_pauses": [],
    }
    fields.update(kw)
    return SimpleNamespace(**fields)


def test_first_response_ladder_on_the_urgent_policy() -> None:
    # urgent: 15 minutes, 24x7. The pr ladder: warn at -25% (11.25 min), breach at 0, manager at +15m.
    timers = timers_for(case(), SLA)
    assert [(t.job_id, t.fire_at) for t in timers] == [
        ("sla-7-first-warn", T0 + timedelta(minutes=11.25)),
        ("sla-7-first-breach", T0 + timedelta(minutes=15)),
        ("sla-7-first-manager", T0 + timedelta(minutes=30)),
    ]
    assert {t.due_at for t in timers} == {T0 + timedelta(minutes=15)}


def test_business_calendar_ladder_skips_closed_hours() -> None:
    # standard: 60 business minutes on support-uk (08:00-12:30, 13:30-20:00 weekdays).
    # Fri 2026-11-27 19:30 GMT: 30 minutes to 20:00; Saturday opens 10:00.
    # warn after 45 min -> Sat 10:15; breach after 60 -> Sat 10:30; the customer_service manager stage
    # (+15m) -> Sat 10:45.
    friday = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)
    c = case(queue="customer_service", sla_policy="standard", first_inbound_at=friday, last_inbound_at=friday)
    assert [(t.key, t.fire_at.isoformat()) for t in timers_for(c, SLA)] == [
        ("first-warn", "2026-11-28T10:15:00+00:00"),
        ("first-breach", "2026-11-28T10:30:00+00:00"),
        ("first-manager", "2026-11-28T10:45:00+00:00"),
    ]


def test_answered_and_closed_cases_have_no_timers_but_a_new_post_starts_the_next_clock() -> None:
    answered = case(first_response_at=T0 + timedelta(minutes=5), last_response_at=T0 + timedelta(minutes=5))
    assert running_clocks(answered, SLA) == [] and timers_for(answered, SLA) == []
    assert timers_for(case(status=CaseStatus.RESOLVED.value), SLA) == []
    # The customer writes again at 10:20 after our 10:05 answer: the next-response clock (15 min) runs.
    again = case(
        status=CaseStatus.OPEN.value,
        first_response_at=T0 + timedelta(minutes=5),
        last_response_at=T0 + timedelta(minutes=5),
        last_inbound_at=T0 + timedelta(minutes=20),
        sla_pauses=[[(T0 + timedelta(minutes=5)).isoformat(), (T0 + timedelta(minutes=20)).isoformat()]],
    )
    timers = timers_for(again, SLA)
    assert [t.key for t in timers] == ["next-warn", "next-breach", "next-manager"]
    assert timers[1].fire_at == T0 + timedelta(minutes=35)


def test_keys_to_cancel_cover_every_ladder() -> None:
    keys = all_timer_keys(SLA)
    assert {"first-warn", "first-breach", "first-lead", "first-manager", "next-manager"} <= keys


def test_the_shipped_rotations_and_paging_policy() -> None:
    pr = SLA.rotation(SLA.paging.rotation)
    assert pr is not None and pr.people[0] == "dana@acme.example"
    assert pr.anchor == date(2026, 11, 2) and pr.handoff == time(9)
    assert pr.on_call(datetime(2026, 11, 10, 12, tzinfo=UTC)) == "eli@acme.example"
    assert SLA.rotation(SLA.paging.manager_rotation) is not None
    assert (SLA.paging.risk_threshold, SLA.paging.repage_after, SLA.paging.max_pages) == (0.8, 10, 6)


BASE = "calendars:\n  always: {timezone: UTC, hours: 24x7}\n"


def test_oncall_errors_name_file_line_column() -> None:
    text = (
        BASE
        + "oncall:\n"
        + "  pr:\n"
        + "    timezone: Europe/Lndon\n"
        + "    people: [a, a]\n"
        + "    starts: 2026-13-01\n"
        + "    handoff: '25:00'\n"
        + "    quiet_hours: 22-7\n"
        + "    overrides:\n"
        + "      - {person: b, from: '2026-12-24T18:00:00', to: '2026-12-24T19:00:00Z'}\n"
        + "paging:\n"
        + "  rotation: pager\n"
        + "  risk_threshold: 1.5\n"
    )
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_config(text, "sla.yaml")
    found = [str(p) for p in caught.value.problems]
    assert found[0].startswith(
        "sla.yaml:5:15: rotation `pr`: `timezone`: unknown IANA time zone `Europe/Lndon`"
    )
    assert "did you mean" in found[0]
    assert found[1] == "sla.yaml:6:13: rotation `pr`: someone is listed twice in `people`"
    assert found[2].startswith("sla.yaml:7:13: rotation `pr`: `starts` must be a date")
    assert found[3].startswith("sla.yaml:8:14: rotation `pr`: `handoff` must be a local time")
    assert found[4].startswith("sla.yaml:9:18: rotation `pr`: `quiet_hours` must be a span")
    assert found[5].startswith(
        "sla.yaml:11:27: rotation `pr`: override 1: `from` must be a time with an offset"
    )
    assert found[6].startswith("sla.yaml:13:13: `paging.rotation`: no rotation `pager` under `oncall`")
    assert found[7] == "sla.yaml:14:19: `paging.risk_threshold` lies between 0 and 1"
    assert len(found) == 8


def test_stage_names_are_unique_and_usable_in_job_ids() -> None:
    text = (
        BASE
        + "policies:\n  p: {calendar: always, first_response: 10s}\n"
        + "escalation:\n  pr:\n"
        + "    - {name: warn, at: '-50%', do: [notify_assignee]}\n"
        + "    - {name: warn, at: '0', do: [raise_priority]}\n"
        + "    - {name: 'Page Now', at: '+2s', do: [page_manager]}\n"
    )
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_config(text, "sla.yaml")
    found = [str(p) for p in caught.value.problems]
    assert found == [
        "sla.yaml:8:14: stage 2 of the `pr` escalation: the name `warn` is used twice in this ladder",
        "sla.yaml:9:14: stage 3 of the `pr` escalation: a stage name is lower-case letters, digits, - and _",
    ]
    ok = parse_sla_config(
        text.replace("name: warn, at: '0'", "name: breach, at: '0'").replace("Page Now", "page")
    )
    assert ok.policy("p").first_response == pytest.approx(10 / 60)  # seconds, for demos and tests
    assert ok.ladder("pr")[2].at.business_minutes(10 / 60) == pytest.approx(12 / 60)
