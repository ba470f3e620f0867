from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from channels.base import Author, Direction, InboundPost
from router.ingest import Ingestor
from router.models import AuditEvent, Case, CaseStatus, DeadLetter, Post, RoutingDecision
from tests.router.doubles import KeywordRouter

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def post(
    pid: str,
    *,
    parent: str | None = None,
    minutes: int = 0,
    author: str = "maria",
    text: str = "my order never arrived",
    direction: Direction = Direction.INBOUND,
) -> InboundPost:
    return InboundPost(
        channel="x",
        platform_id=pid,
        account="acme",
        author=Author(handle=author),
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        in_reply_to=parent,
        direction=direction,
    )


def reply(pid: str, parent: str, minutes: int) -> InboundPost:
    return post(
        pid, parent=parent, minutes=minutes, author="acme", text="sorry!", direction=Direction.OUTBOUND
    )


@pytest.fixture
def ingestor(engine) -> Ingestor:
    return Ingestor(engine=engine, router=KeywordRouter())


def cases(engine) -> list[Case]:
    with Session(engine) as s:
        return list(s.exec(select(Case).where(Case.status != CaseStatus.MERGED)).all())


def test_the_same_post_twice_changes_nothing(engine, ingestor) -> None:
    first = ingestor.ingest([post("1")], source="t")
    with Session(engine) as s:
        audit_before = s.exec(select(func.count(col(AuditEvent.id)))).one()
    second = ingestor.ingest([post("1"), post("1")], source="t")
    assert (first.stored, second.stored, second.duplicates) == (1, 0, 2)
    with Session(engine) as s:
        assert s.exec(select(func.count(col(Post.id)))).one() == 1
        assert s.exec(select(func.count(col(RoutingDecision.id)))).one() == 1
        assert s.exec(select(func.count(col(AuditEvent.id)))).one() == audit_before
    assert len(cases(engine)) == 1


def test_a_reply_chain_arriving_backwards_forms_the_same_case_as_in_order(engine, ingestor) -> None:
    # customer 1 -> brand reply 2 -> customer 3, delivered 3, 2, 1
    for item in (post("3", parent="2", minutes=30, text="still waiting"), reply("2", "1", 20), post("1")):
        ingestor.ingest([item], source="t")
    [case] = cases(engine)
    assert case.first_inbound_at == T0
    assert case.first_response_at == T0 + timedelta(minutes=20)
    assert case.last_inbound_at == T0 + timedelta(minutes=30)
    assert case.status == CaseStatus.OPEN  # the customer spoke last
    with Session(engine) as s:
        posts = s.exec(select(Post)).all()
        assert {p.case_id for p in posts} == {case.id}
        first = s.get(Post, case.first_post_id)
        assert first is not None and first.platform_id == "1"


def test_our_reply_before_the_customer_post_it_answers_counts_as_the_response(engine, ingestor) -> None:
    ingestor.ingest([reply("2", "1", 12)], source="t")
    assert cases(engine) == []  # nothing to answer yet
    ingestor.ingest([post("1")], source="t")
    [case] = cases(engine)
    assert case.first_response_at - case.first_inbound_at == timedelta(minutes=12)
    assert case.status == CaseStatus.WAITING


def test_replies_to_our_announcement_are_separate_conversations(engine, ingestor) -> None:
    announcement = post("100", author="acme", text="New menu!", direction=Direction.OUTBOUND)
    ingestor.ingest(
        [announcement, post("101", parent="100", author="a"), post("102", parent="100", author="b")],
        source="t",
    )
    assert sorted(c.author_handle for c in cases(engine)) == ["a", "b"]


def test_a_later_legal_threat_escalates_the_case_to_pr(engine, ingestor) -> None:
    ingestor.ingest([post("1")], source="t")
    [case] = cases(engine)
    assert (case.queue, case.priority) == ("forum", 3)
    ingestor.ingest([post("2", parent="1", minutes=5, text="I am calling my lawyer")], source="t")
    [case] = cases(engine)
    assert (case.queue, case.priority, case.page_pr, case.tags) == ("pr", 1, True, ["legal"])
    with Session(engine) as s:
        decisions = s.exec(select(RoutingDecision).order_by(col(RoutingDecision.id))).all()
    assert [d.matched for d in decisions] == [["default"], ["legal"]]
    assert decisions[1].explanation["why"] == [{"rule": "legal", "because": "words: lawyer"}]


def test_two_threads_joined_by_a_late_post_merge_into_one_case(engine, ingestor) -> None:
    ingestor.ingest([post("1"), post("3", parent="2", minutes=10, author="bob")], source="t")
    assert len(cases(engine)) == 2
    ingestor.ingest([post("2", parent="1", minutes=5, author="carol")], source="t")
    [case] = cases(engine)
    with Session(engine) as s:
        assert {p.case_id for p in s.exec(select(Post)).all()} == {case.id}
        merged = s.exec(select(Case).where(Case.status == CaseStatus.MERGED)).one()
        assert merged.merged_into_id == case.id


def test_a_new_post_reopens_a_resolved_case(engine, ingestor) -> None:
    ingestor.ingest([post("1")], source="t")
    with Session(engine) as s:
        case = s.exec(select(Case)).one()
        case.status = CaseStatus.RESOLVED
        s.add(case)
        s.commit()
    ingestor.ingest([post("2", parent="1", minutes=60, text="it happened again")], source="t")
    assert cases(engine)[0].status == CaseStatus.OPEN


def test_an_edit_updates_the_post_and_a_removal_keeps_it_marked(engine, ingestor) -> None:
    ingestor.ingest([post("1")], source="t")
    edited = ingestor.ingest([post("1", text="my order never arrived!!")], source="t")
    removed = ingestor.ingest([post("1").model_copy(update={"removed": True})], source="t")
    assert (edited.updated, removed.updated) == (1, 1)
    with Session(engine) as s:
        row = s.exec(select(Post)).one()
        actions = s.exec(select(AuditEvent.action)).all()
    assert (row.text, row.removed) == ("my order never arrived!!", True)
    assert {"post.edited", "post.removed"} <= set(actions)


def test_a_post_the_pipeline_cannot_process_is_dead_lettered_and_the_batch_goes_on(engine) -> None:
    class Exploding(KeywordRouter):
        def decide(self, facts):  # type: ignore[no-untyped-def]
            if "boom" in facts.text:
                raise RuntimeError("rule blew up")
            return super().decide(facts)

    result = Ingestor(engine=engine, router=Exploding()).ingest(
        [post("1", text="boom"), post("2", author="bob")], source="t"
    )
    assert (result.stored, result.failed) == (1, 1)
    with Session(engine) as s:
        letter = s.exec(select(DeadLetter)).one()
        assert s.exec(select(Post.platform_id)).all() == ["2"]
    assert letter.location == "x:1" and "rule blew up" in letter.reason
    assert InboundPost.model_validate_json(letter.payload).platform_id == "1"  # replayable as is


def test_thread_and_author_facts_reach_the_router(engine) -> None:
    router = KeywordRouter()
    ingestor = Ingestor(engine=engine, router=router)
    ingestor.ingest([post("1"), post("2", parent="1", minutes=5, author="bob")], source="t")
    ingestor.ingest([post("9", minutes=90, text="another problem")], source="t")
    second, third = router.seen[1], router.seen[2]
    assert (second.thread.posts, second.thread.distinct_authors, second.thread.replies_last_hour) == (2, 2, 1)
    assert (third.history.open_cases, third.known_customer) == (1, True)


def test_a_removal_of_a_post_we_never_saw_opens_no_case(engine, ingestor) -> None:
    result = ingestor.ingest([post("404", text="").model_copy(update={"removed": True})], source="t")
    assert result.stored == 1 and cases(engine) == []
