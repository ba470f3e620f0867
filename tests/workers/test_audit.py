from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import text
from sqlmodel import Session, col, select

from router import audit
from router.ingest import IngestResult
from router.models import AuditEvent
from workers.audit import event_hash, seal_pending, verify_chain
from workers.followups import after_ingest
from workers.queues import ALL_QUEUES, queue


def _write_events(engine, n: int) -> None:
    with Session(engine) as s:
        for i in range(n):
            audit.record(s, action="case.routed", case_id=i, rules=["r1"], n=i)
        s.commit()


def _sealed(engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())


def test_a_real_rq_worker_seals_what_ingest_appended(engine, redis_conn) -> None:
    _write_events(engine, 5)
    after_ingest(IngestResult(stored=5))
    after_ingest(IngestResult(stored=5))  # a second trigger while one is queued is the same job
    assert queue("audit", redis_conn).count == 1
    SimpleWorker([queue(n, redis_conn) for n in ALL_QUEUES], connection=redis_conn).work(burst=True)
    events = _sealed(engine)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(e.hash for e in events)
    assert verify_chain(engine) == (5, None)


def test_sealing_continues_the_chain_across_batches(engine) -> None:
    _write_events(engine, 3)
    assert seal_pending(engine, batch=2) == 3
    _write_events(engine, 2)
    assert seal_pending(engine) == 2
    events = _sealed(engine)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify_chain(engine) == (5, None)


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3, "altered"),
        ("DELETE FROM audit_events WHERE seq = 2", 2, "missing"),
        # a forged event with a correct hash slipped in at position 4: the next one no longer links
        ("shift seq 4.. up by one, then add a well-hashed forged event as seq 4", 5, "inserted"),
    ],
    ids=["edit", "delete", "insert"],
)
def test_verify_names_the_first_tampered_event(engine, tamper: str, seq: int, problem: str) -> None:
    _write_events(engine, 6)
    seal_pending(engine)
    with engine.begin() as conn:
        if problem == "inserted":
            conn.execute(text("UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4"))
            conn.execute(text("UPDATE audit_events SET seq = seq - 99 WHERE seq >= 104"))
        else:
            conn.execute(text(tamper))
    if problem == "inserted":
        with Session(engine) as s:
            third = s.exec(select(AuditEvent).where(AuditEvent.seq == 3)).one()
            forged = AuditEvent(
                at=third.at, actor="mallory", action="case.resolved", seq=4, prev_hash=third.hash
            )
            forged.hash = event_hash(forged, third.hash or "")
            s.add(forged)
            s.commit()
    checked, broken = verify_chain(engine)
    assert broken is not None and broken.seq == seq and problem in broken.problem
    assert checked == seq - 1


def test_export_prints_the_sealed_chain_as_json_lines_since_a_time(engine) -> None:
    import json

    from click.testing import CliRunner

    from router import cli

    _write_events(engine, 3)
    seal_pending(engine)
    result = CliRunner().invoke(cli.main, ["audit", "export", "--format", "jsonl"])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and [e["seq"] for e in lines] == [1, 2, 3]
    assert lines[1]["prev_hash"] == lines[0]["hash"] and lines[0]["action"] == "case.routed"
    later = CliRunner().invoke(cli.main, ["audit", "export", "--since", "2999-01-01T00:00:00Z"])
    assert later.exit_code == 0 and later.output == ""
    naive = CliRunner().invoke(cli.main, ["audit", "export", "--since", "2026-01-01T00:00:00"])
    assert naive.exit_code == 1 and "time zone" in naive.output
