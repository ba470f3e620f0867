"""Where the SLA config meets the rest: the service wiring, the queue's order, the reports' clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from router.models import Case
from router.queue import QueueFilter, list_cases
from router.reports.calendars import clock_from_config
from router.services import Services
from router.settings import RULES_PACKAGE_DIR, get_settings
from router.sla.policy import load_sla_config

SLA = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_services_load_the_sla_config_once_and_hand_it_to_the_ingestor(engine) -> None:  # type: ignore[no-untyped-def]
    services = Services(settings=get_settings(), engine=engine)
    assert services.sla is not None and services.sla is services.sla
    assert services.ingestor._sla is services.sla
    assert set(services.sla.policy_names) >= {"urgent", "standard", "relaxed"}


def test_the_queue_puts_breached_cases_first_then_the_next_due_then_priority(engine) -> None:  # type: ignore[no-untyped-def]
    def add(s: Session, name: str, due_minutes: float | None, priority: int) -> None:
        s.add(
            Case(
                channel="x",
                account="acme",
                author_handle=name,
                queue="forum",
                priority=priority,
                sla_policy="standard",
                ruleset_version="t",
                status="open",
                next_due_at=None if due_minutes is None else NOW + timedelta(minutes=due_minutes),
            )
        )

    with Session(engine) as s:
        add(s, "later", 30, 1)
        add(s, "no-due", None, 1)
        add(s, "breached-long-ago", -90, 4)
        add(s, "soon-low", 5, 4)
        add(s, "soon-urgent", 5, 1)
        add(s, "breached", -1, 1)
        s.commit()
        order = [c["author"] for c in list_cases(s, QueueFilter(), now=NOW)]
    assert order == ["breached-long-ago", "breached", "soon-urgent", "soon-low", "later", "no-due"]


def test_the_reports_clock_measures_on_each_policys_calendar() -> None:
    clock = clock_from_config(SLA)
    assert clock.fingerprints["standard"] == SLA.policy("standard").version
    friday_evening = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)
    monday_morning = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    # support-uk: Fri 19:30-20:00 (30) + Sat 10:00-16:00 (360) + Mon 08:00-08:30 (30) = 420 minutes.
    assert clock.seconds("standard", friday_evening, monday_morning) == 420 * 60
    # always (24x7): the wall clock, 61 hours.
    assert clock.seconds("urgent", friday_evening, monday_morning) == 61 * 3600
