from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, col, func, select

from channels.replay import ReplayFormat
from router.file_ingest import ingest_file
from router.ingest import Ingestor
from router.models import Case, DeadLetter, Post
from tests.conftest import TWCS_SAMPLE
from tests.router.doubles import KeywordRouter

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"


def test_a_malformed_twcs_row_is_dead_lettered_with_its_line_and_the_rest_goes_in(engine, tmp_path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        HEADER
        + '1,115712,TRUE,Tue Oct 31 22:10:47 +0000 2017,"@sprintcare a\nlong one",2,\n'  # 2-3
        + "2,sprintcare,FALSE,yesterday-ish,@115712 sorry,,1\n"  # line 4: bad date
        + "3,115713,MAYBE,Tue Oct 31 22:12:00 +0000 2017,@sprintcare hi,,\n"  # line 5: bad flag
        + "4,115714,TRUE,Tue Oct 31 22:13:00 +0000 2017,@sprintcare hello,,\n"
    )
    report = ingest_file(Ingestor(engine=engine, router=KeywordRouter()), csv, ReplayFormat.TWCS)
    assert [(bad.line, bad.reason.split(" ")[0]) for bad in report.bad_rows] == [
        (4, "created_at"),
        (5, "inbound"),
    ]
    assert report.result.stored == 2
    with Session(engine) as s:
        letters = s.exec(select(DeadLetter).order_by(col(DeadLetter.id))).all()
        assert [letter.location for letter in letters] == [f"{csv}:4", f"{csv}:5"]
        assert json.loads(letters[0].payload)["tweet_id"] == "2"  # the whole row is kept
        assert sorted(s.exec(select(Post.platform_id)).all()) == ["1", "4"]


def test_jsonl_lines_that_are_not_posts_name_their_line_and_field(engine, tmp_path: Path) -> None:
    good = {
        "channel": "forum",
        "platform_id": "f1",
        "account": "community",
        "author": {"handle": "ann"},
        "text": "How do I reset my password?",
        "created_at": "2026-11-20T10:00:00Z",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "platform_id": "f2", "created_at": "2026-11-20T10:00:00"}),
        "",
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines))
    report = ingest_file(Ingestor(engine=engine, router=KeywordRouter()), path, ReplayFormat.JSONL)
    assert report.result.stored == 1
    assert [bad.line for bad in report.bad_rows] == [2, 3]
    assert "created_at" in report.bad_rows[1].reason and "time zone" in report.bad_rows[1].reason


def test_the_twcs_sample_twice_adds_nothing_and_every_inbound_tweet_has_one_case(engine) -> None:
    ingestor = Ingestor(engine=engine, router=KeywordRouter())
    first = ingest_file(ingestor, TWCS_SAMPLE, ReplayFormat.TWCS)
    second = ingest_file(ingestor, TWCS_SAMPLE, ReplayFormat.TWCS)
    assert first.bad_rows == [] and first.result.stored == 121
    assert (second.result.stored, second.result.duplicates) == (0, 121)
    with Session(engine) as s:
        inbound = s.exec(select(Post).where(Post.direction == "inbound")).all()
        live = {c.id for c in s.exec(select(Case).where(col(Case.merged_into_id).is_(None))).all()}
        assert all(p.case_id in live for p in inbound)
        assert s.exec(select(func.count(col(Post.id)))).one() == 121
