"""Both ingest paths give a routed case its due times, and keep them moving with the conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from channels.base import Author, Direction, InboundPost
from router.ingest import Ingestor
from router.models import Case
from router.settings import RULES_PACKAGE_DIR
from router.sla.policy import load_sla_config
from tests.router.doubles import KeywordRouter

SLA = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 GMT


def post(pid: str, minutes: int, text: str = "where is my order", parent: str | None = None) -> InboundPost:
    return InboundPost(
        channel="x",
        platform_id=pid,
        account="acme",
        author=Author(handle="maria"),
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        in_reply_to=parent,
    )


def reply(pid: str, parent: str, minutes: int) -> InboundPost:
    return InboundPost(
        channel="x",
        platform_id=pid,
        account="acme",
        author=Author(handle="acme"),
        text="sorry!",
        created_at=T0 + timedelta(minutes=minutes),
        in_reply_to=parent,
        direction=Direction.OUTBOUND,
    )


def only_case(engine) -> Case:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(Case)).one()


def test_a_routed_case_gets_its_due_times(engine) -> None:  # type: ignore[no-untyped-def]
    ingestor = Ingestor(engine=engine, router=KeywordRouter(), sla=SLA)
    ingestor.ingest([post("1", 0, "my lawyer will hear about this")], source="t")  # -> urgent
    case = only_case(engine)
    assert case.sla_policy == "urgent" and case.sla_policy_version == SLA.policy("urgent").version
    assert case.first_response_due_at == T0 + timedelta(minutes=15)
    assert case.resolution_due_at == T0 + timedelta(hours=8)
    assert case.next_due_at == case.first_response_due_at

    ingestor.ingest([reply("2", "1", 10)], source="t")  # answered at 10:10: the clock waits
    case = only_case(engine)
    assert case.sla_pauses == [[(T0 + timedelta(minutes=10)).isoformat(), None]]
    assert (case.next_response_due_at, case.resolution_due_at, case.next_due_at) == (None, None, None)

    ingestor.ingest([post("3", 60, "still nothing", parent="2")], source="t")  # back at 11:00
    case = only_case(engine)
    assert case.next_response_due_at == T0 + timedelta(minutes=75)
    assert case.resolution_due_at == T0 + timedelta(hours=8, minutes=50)  # 50 minutes paused
    assert case.next_due_at == T0 + timedelta(minutes=75)


def test_the_careful_path_times_cases_the_same_way(engine) -> None:  # type: ignore[no-untyped-def]
    ingestor = Ingestor(engine=engine, router=KeywordRouter(), sla=SLA)
    ingestor._ingest_carefully([post("1", 0)], source="t")  # -> standard on support-uk
    case = only_case(engine)
    assert case.sla_policy == "standard"
    assert case.first_response_due_at == T0 + timedelta(minutes=60)  # Monday 10:00 + 60 business minutes
    assert case.next_due_at == case.first_response_due_at


def test_without_an_sla_config_there_are_no_due_times(engine) -> None:  # type: ignore[no-untyped-def]
    Ingestor(engine=engine, router=KeywordRouter()).ingest([post("1", 0)], source="t")
    case = only_case(engine)
    assert (case.first_response_due_at, case.next_due_at, case.sla_policy_version) == (None, None, None)
