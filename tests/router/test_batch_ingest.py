"""The fast, set-based path must store exactly what the careful per-post path stores."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, SQLModel, col, select

from channels.replay import RowError, read_twcs
from router.demo_data import demo_posts
from router.ingest import Ingestor
from router.models import AuditEvent, Case, Post, RoutingDecision
from router.settings import RULES_PACKAGE_DIR
from router.sla.policy import load_sla_config
from router.timeutil import utcnow
from tests.conftest import TWCS_SAMPLE
from tests.router.doubles import KeywordRouter

SLA = load_sla_config(RULES_PACKAGE_DIR / "sla.yaml")


def _snapshot(engine) -> dict[str, object]:
    with Session(engine) as s:
        posts = s.exec(select(Post).order_by(col(Post.platform_id))).all()
        cases = {c.id: c for c in s.exec(select(Case)).all()}
        first_post = {c.id: p.platform_id for p in posts for c in cases.values() if c.first_post_id == p.id}

        def case_of(post: Post) -> tuple | None:
            if post.case_id is None:
                return None
            c = cases[post.case_id]
            return (
                first_post.get(c.id),
                c.queue,
                c.priority,
                c.status,
                c.author_handle,
                c.tags,
                c.first_inbound_at,
                c.first_response_at,
                c.last_inbound_at,
                c.last_response_at,
                c.first_response_due_at,
                c.next_response_due_at,
                c.resolution_due_at,
                c.next_due_at,
                c.sla_policy_version,
                c.sla_pauses,
            )

        decisions = sorted(
            (p.platform_id, tuple(d.matched))
            for d, p in s.exec(select(RoutingDecision, Post).where(RoutingDecision.post_id == Post.id)).all()
        )
        actions = sorted(s.exec(select(AuditEvent.action)).all())
    return {"posts": [(p.platform_id, case_of(p)) for p in posts], "decisions": decisions, "audit": actions}


def _clear(engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def _in_time_order() -> list:
    posts = [p for p in read_twcs(TWCS_SAMPLE) if not isinstance(p, RowError)] + demo_posts(utcnow())
    return sorted(posts, key=lambda p: p.created_at)


@pytest.mark.parametrize("batch", [7, 500])
def test_fast_and_careful_paths_store_the_same_thing(engine, batch: int, caplog) -> None:
    posts = _in_time_order()
    ingestor = Ingestor(engine=engine, router=KeywordRouter(), sla=SLA)
    with caplog.at_level(logging.DEBUG, logger="router.ingest"):
        for i in range(0, len(posts), batch):
            ingestor.ingest(posts[i : i + batch], source="t")
    fast = _snapshot(engine)
    timed = [case for _, case in fast["posts"] if case is not None]  # type: ignore[attr-defined]
    assert timed and all(case[10] is not None for case in timed)  # every case has a first-response due time
    assert any(case[12] is not None for case in timed) and any(case[15] for case in timed)  # some paused
    assert "fast ingest path failed" not in caplog.text  # only the expected detours, never a crash
    _clear(engine)
    for i in range(0, len(posts), batch):
        ingestor._ingest_carefully(posts[i : i + batch], source="t")
    assert _snapshot(engine) == fast


def test_an_in_order_stream_takes_the_fast_path(engine, caplog) -> None:
    posts = sorted(demo_posts(utcnow()), key=lambda p: p.created_at)
    with caplog.at_level(logging.DEBUG, logger="router.ingest"):
        result = Ingestor(engine=engine, router=KeywordRouter()).ingest(posts, source="t")
    assert result.stored == len(posts)
    assert "careful path" not in caplog.text and "fast ingest path failed" not in caplog.text
