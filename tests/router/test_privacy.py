from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlmodel import Session, select

from router import cli
from router.ingest import Ingestor
from router.models import AuditEvent, Case, InboxEvent, Post
from router.privacy import REDACTED_TEXT, erase_author, pseudonym, purge_raw_payloads
from router.queue import QueueFilter, list_cases
from router.timeutil import utcnow
from tests.router.doubles import KeywordRouter
from tests.router.test_ingest import post, reply
from workers.audit import seal_pending, verify_chain


def _timeline(engine) -> list[tuple]:
    with Session(engine) as s:
        return [
            (c["id"], c["queue"], c["first_inbound_at"], c["first_response_s"])
            for c in list_cases(s, QueueFilter(status="all"))
        ]


def test_erasing_a_person_keeps_reports_and_the_audit_chain_intact(engine) -> None:
    ingestor = Ingestor(engine=engine, router=KeywordRouter())
    ingestor.ingest(
        [
            post("1", author="maria", text="I live at 5 Elm St"),
            reply("2", "1", 9),
            post("3", author="bob", text="me too"),
        ],
        source="t",
    )
    seal_pending(engine)
    before = _timeline(engine)

    result = CliRunner().invoke(cli.main, ["privacy", "erase", "--author", "maria", "--actor", "dpo@acme"])
    assert result.exit_code == 0, result.output
    seal_pending(engine)

    with Session(engine) as s:
        maria = s.exec(select(Post).where(Post.platform_id == "1")).one()
        assert (maria.text, maria.author_handle, maria.raw) == (REDACTED_TEXT, pseudonym("maria"), None)
        assert "Elm" not in str([e.details for e in s.exec(select(AuditEvent)).all()])
        assert s.exec(select(Post).where(Post.platform_id == "3")).one().text == "me too"
        assert {c.author_handle for c in s.exec(select(Case)).all()} == {pseudonym("maria"), "bob"}
        erased = s.exec(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).one()
    assert erased.actor == "dpo@acme" and erased.details["posts"] == 1
    assert _timeline(engine) == before
    checked, broken = verify_chain(engine)
    assert broken is None and checked > 0


def test_retention_drops_old_raw_payloads_and_processed_deliveries_only(engine) -> None:
    ingestor = Ingestor(engine=engine, router=KeywordRouter())
    ingestor.ingest([post("1").model_copy(update={"raw": {"source": "x", "secret": "pii"}})], source="t")
    with Session(engine) as s:
        s.add(
            InboxEvent(
                source="x",
                delivery_key="done",
                body=b"{}",
                processed_at=utcnow(),
                received_at=utcnow() - timedelta(days=40),
            )
        )
        s.add(
            InboxEvent(
                source="x", delivery_key="pending", body=b"{}", received_at=utcnow() - timedelta(days=40)
            )
        )
        s.commit()
    assert purge_raw_payloads(engine, older_than=utcnow() - timedelta(days=30)) == (0, 1)
    assert purge_raw_payloads(engine, older_than=utcnow() + timedelta(seconds=1)) == (1, 0)
    with Session(engine) as s:
        assert s.exec(select(Post.raw)).one() is None
        assert s.exec(select(InboxEvent.delivery_key)).all() == [
            "pending"
        ]  # unprocessed work is never purged
    assert erase_author(engine, handle="nobody", actor="dpo").posts == 0
