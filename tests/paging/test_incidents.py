"""A risky thread pages PR through every transport, re-pages, stops on acknowledge; a burst on one
thread is one incident. Real Redis, real RQ workers, the local pager sink and a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller
from rq import SimpleWorker
from sqlmodel import Session, col, select

from channels.base import Author, InboundPost
from router.ingest import Ingestor
from router.models import AuditEvent, Case
from router.settings import RULES_PACKAGE_DIR
from router.sla.policy import load_sla_config
from router.timeutil import utcnow
from tests.fakes.pager_sink import PagerSink, serve_in_thread
from tests.paging.conftest import MailHandler
from tests.router.doubles import KeywordRouter
from workers import timers
from workers.paging import incidents
from workers.paging.oncall import QuietHours
from workers.queues import ALL_QUEUES, PAGING, queue

SHIPPED = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")
CONFIG = replace(SHIPPED, rotations={n: replace(r, quiet_hours=None) for n, r in SHIPPED.rotations.items()})
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
PD = "/v2/enqueue"


@pytest.fixture
def sink() -> Iterator[tuple[PagerSink, str]]:
    fake = PagerSink()
    with serve_in_thread(fake) as url:
        yield fake, url


@pytest.fixture
def mail() -> Iterator[MailHandler]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = MailHandler()
    handler.port = port  # type: ignore[attr-defined]
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1")
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def pagers(sink, mail, monkeypatch: pytest.MonkeyPatch) -> tuple[PagerSink, MailHandler]:  # type: ignore[no-untyped-def]
    fake, url = sink
    monkeypatch.setenv("PAGER_SLACK_WEBHOOK_URL", url + "services/T0/B0/hook")
    monkeypatch.setenv("PAGER_PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("PAGER_PAGERDUTY_URL", url)
    monkeypatch.setenv("PAGER_WEBHOOK_URL", url + "hooks/pages")
    monkeypatch.setenv("PAGER_WEBHOOK_SECRET", "hook-secret")
    monkeypatch.setenv("PAGER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAGER_SMTP_PORT", str(mail_port(mail)))
    monkeypatch.setenv("PAGER_SMTP_START_TLS", "false")
    monkeypatch.setenv("PAGER_EMAIL_FROM", "engage@acme.test")
    monkeypatch.setattr(timers, "sla_config", lambda: CONFIG)
    return fake, mail


def mail_port(handler: MailHandler) -> int:
    return handler.port  # type: ignore[attr-defined,no-any-return]


def work(connection) -> None:  # type: ignore[no-untyped-def]
    SimpleWorker([queue(n, connection) for n in ALL_QUEUES], connection=connection).work(
        burst=True, with_scheduler=True, logging_level="WARNING"
    )


def time_passes(connection) -> None:  # type: ignore[no-untyped-def]
    """Everything scheduled on the paging queue becomes due (the re-page timer ran out)."""
    q = queue(PAGING, connection)
    registry = q.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = q.fetch_job(job_id)
        registry.remove(job_id)
        if job is not None:
            q.enqueue_job(job)


def risky(pid: str, author: str, minute: int) -> InboundPost:
    return InboundPost(
        channel="x",
        platform_id=pid,
        account="acme",
        author=Author(handle=author),
        text="my lawyer will hear about this",
        created_at=utcnow() - timedelta(seconds=120 - minute),
        in_reply_to="root-1",
        conversation_id="root-1",
    )


def test_a_burst_on_one_thread_pages_pr_once_re_pages_and_stops_on_acknowledge(
    engine, redis_conn, pagers
) -> None:  # type: ignore[no-untyped-def]
    sink, mail = pagers
    ingestor = Ingestor(
        engine=engine,
        router=KeywordRouter(),
        sla=CONFIG,
        after_commit=lambda result: timers.cases_changed(result.changed_case_ids, connection=redis_conn),
    )
    # 50 risky replies from 10 people in one conversation, in five batches.
    for batch in range(5):
        posts = [risky(f"p{batch}-{i}", f"user{i}", batch * 10 + i) for i in range(10)]
        ingestor.ingest(posts, source="test")
    work(redis_conn)

    key = "thread:x:root-1"
    incident = incidents.get(key, redis_conn)
    assert incident is not None and incident.status == "triggered"
    with Session(engine) as s:
        case_ids = set(s.exec(select(Case.id)).all())
        opened = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "incident.opened")).all()
    assert len(opened) == 1 and incident.case_ids == case_ids and len(case_ids) >= 10
    on_call = CONFIG.rotations["pr"].on_call(utcnow())
    assert incident.paged == (on_call,)

    # Once through each transport.
    assert len(sink.at(PD)) == 1 and sink.at(PD)[0].json()["event_action"] == "trigger"
    assert len(sink.at("/services/T0/B0/hook")) == 1
    assert len(sink.at("/hooks/pages")) == 1
    assert [to for _, to, _ in mail.received] == [[on_call]]
    assert sink.incidents == {key: "triggered"}

    # Nobody acknowledges: the re-page goes to the next person, on the same incident.
    time_passes(redis_conn)
    work(redis_conn)
    incident = incidents.get(key, redis_conn)
    assert incident is not None and len(incident.paged) == 2 and incident.paged[1] != on_call
    assert len(sink.at(PD)) == 2 and len(sink.incidents) == 1
    assert [to for _, to, _ in mail.received] == [[on_call], [incident.paged[1]]]
    assert {m["References"] for _, _, m in mail.received} == {mail.received[0][2]["References"]}

    # The second person acknowledges (e.g. from the UI): the pagers hear it, re-paging stops.
    assert incidents.acknowledge(key, by=incident.paged[1], via="ui", connection=redis_conn)
    assert not incidents.acknowledge(key, by="someone", connection=redis_conn)  # only once
    work(redis_conn)
    assert sink.incidents == {key: "acknowledged"}
    assert [r.json()["event_action"] for r in sink.at(PD)] == ["trigger", "trigger", "acknowledge"]
    time_passes(redis_conn)
    work(redis_conn)
    assert len(sink.at(PD)) == 3 and len(mail.received) == 3  # two pages, one acknowledgement
    with Session(engine) as s:
        acks = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "incident.acknowledged")).all()
    assert {a.case_id for a in acks} == case_ids  # visible on every case of the thread

    # More risky posts on the acknowledged thread join it without paging again.
    ingestor.ingest([risky("late", "user99", 60)], source="test")
    work(redis_conn)
    assert len(sink.at(PD)) == 3

    assert incidents.resolve(key, by="dana", connection=redis_conn)
    work(redis_conn)
    assert sink.incidents == {key: "resolved"}


def test_a_failing_transport_is_retried_alone(engine, redis_conn, pagers) -> None:  # type: ignore[no-untyped-def]
    sink, mail = pagers
    sink.fail(PD, 503)
    ingestor = Ingestor(engine=engine, router=KeywordRouter(), sla=CONFIG)
    ingestor.ingest([risky("p1", "maria", 1)], source="test")
    with Session(engine) as s:
        case_id = s.exec(select(Case.id)).one()
    timers.sync_cases([case_id])
    work(redis_conn)
    assert [r.json()["event_action"] for r in sink.at(PD)] == ["trigger"]  # answered 503
    assert len(mail.received) == 1 and len(sink.at("/hooks/pages")) == 1
    retry = queue(PAGING, redis_conn).scheduled_job_registry
    assert len([j for j in retry.get_job_ids() if j.endswith("-pagerduty")]) == 1
    for job_id in [j for j in retry.get_job_ids() if j.endswith("-pagerduty")]:
        job = queue(PAGING, redis_conn).fetch_job(job_id)
        retry.remove(job_id)
        assert job is not None
        queue(PAGING, redis_conn).enqueue_job(job)
    work(redis_conn)
    assert len(sink.at(PD)) == 2 and sink.incidents == {"thread:x:root-1": "triggered"}
    assert len(mail.received) == 1 and len(sink.at("/hooks/pages")) == 1  # the others sent once


def test_quiet_hours_hold_a_non_critical_page(engine, redis_conn, pagers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sink, _ = pagers
    now = datetime.now(UTC).astimezone(CONFIG.rotations["pr"].timezone)
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    quiet = replace(CONFIG.rotations["pr"], quiet_hours=QuietHours(start, end))
    monkeypatch.setattr(
        timers, "sla_config", lambda: replace(CONFIG, rotations={**CONFIG.rotations, "pr": quiet})
    )
    Ingestor(engine=engine, router=KeywordRouter(), sla=CONFIG).ingest(
        [risky("p1", "maria", 1)], source="test"
    )
    with Session(engine) as s:
        case_id = s.exec(select(Case.id)).one()
        timers.sync_cases([case_id])
        work(redis_conn)
        held = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "page.held")).all()
    assert sink.requests == [] and len(held) == 1
    until = datetime.fromisoformat(held[0].details["until"])
    assert until.astimezone(quiet.timezone).time() == end or end < time(0, 2)
    assert queue(PAGING, redis_conn).scheduled_job_registry.count == 1


def test_a_batch_of_risky_cases_opens_one_incident_per_thread(engine, redis_conn, pagers) -> None:  # type: ignore[no-untyped-def]
    """The worker considers a whole ingest batch at once: three risky replies on one thread and one
    on another open two incidents, each paged once; a calm case raises nothing."""
    sink, _ = pagers
    calm = risky("calm", "happy", 9).model_copy(
        update={"text": "thanks, all sorted", "in_reply_to": None, "conversation_id": None}
    )
    other = risky("o1", "userx", 5).model_copy(update={"in_reply_to": "root-2", "conversation_id": "root-2"})
    posts = [risky(f"p{i}", f"user{i}", i) for i in range(3)] + [other, calm]
    Ingestor(engine=engine, router=KeywordRouter(), sla=CONFIG).ingest(posts, source="test")
    with Session(engine, expire_on_commit=False) as s:
        cases = list(s.exec(select(Case)).all())
    keys = incidents.consider_many(cases, CONFIG, connection=redis_conn, engine=engine)
    assert sorted(set(keys)) == ["thread:x:root-1", "thread:x:root-2"]
    assert incidents.consider_many(cases, CONFIG, connection=redis_conn, engine=engine) == []  # once
    work(redis_conn)
    with Session(engine) as s:
        actions = [
            e.action for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("incident.%")))
        ]
    assert sorted(actions) == ["incident.joined"] * (len(keys) - 2) + ["incident.opened"] * 2
    assert len(sink.at(PD)) == 2 and set(sink.incidents) == {"thread:x:root-1", "thread:x:root-2"}
