"""Nearest-rank percentiles, computed in SQL, on small sets whose answers are known by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from router.reports.report import build_report
from router.reports.scope import ReportFilter
from tests.reports.factory import T0, add_post, make_case


def _report(engine, **kw):  # type: ignore[no-untyped-def]
    return build_report(engine, ReportFilter(as_of=T0 + timedelta(days=30), **kw))


def _wall(group):  # type: ignore[no-untyped-def]
    d = group["first_response_s"]["wall"]
    return d["n"], d["p50"], d["p90"], d["p95"], d["max"]


def test_one_to_ten_and_twenty_values(engine) -> None:
    with Session(engine) as s:
        for seconds in (7, 3, 10, 1, 9, 2, 8, 5, 4, 6):  # 1..10 shuffled
            make_case(s, answer_after_s=seconds, account="ten")
        for seconds in range(20, 0, -1):  # 1..20
            make_case(s, answer_after_s=seconds * 60, account="twenty")
        make_case(s, account="twenty")  # unanswered: no response time, still a case
        s.commit()
    groups = {g["key"]["account"]: g for g in _report(engine, group_by=("account",))["groups"]}
    # rank ceil(p * n / 100): n=10 -> 5, 9, 10; n=20 -> 10, 18, 19
    assert _wall(groups["ten"]) == (10, 5, 9, 10, 10)
    assert _wall(groups["twenty"]) == (20, 600, 1080, 1140, 1200)
    assert (groups["twenty"]["cases"], groups["twenty"]["answered"]) == (21, 20)


def test_even_sets_take_the_lower_middle_and_one_value_is_every_percentile(engine) -> None:
    with Session(engine) as s:
        for seconds in (40, 10, 30, 20):
            make_case(s, answer_after_s=seconds, queue="forum")
        make_case(s, answer_after_s=77, queue="pr")
        s.commit()
    report = _report(engine, group_by=("queue",))
    groups = {g["key"]["queue"]: g for g in report["groups"]}
    assert _wall(groups["forum"]) == (4, 20, 40, 40, 40)
    assert _wall(groups["pr"]) == (1, 77, 77, 77, 77)
    assert _wall(report["totals"]) == (5, 30, 77, 77, 77)


def test_tags_group_a_case_under_each_of_its_tags_and_untagged_under_none(engine) -> None:
    with Session(engine) as s:
        make_case(s, answer_after_s=10, tags=["billing", "vip"])
        make_case(s, answer_after_s=20, tags=["billing"])
        make_case(s, answer_after_s=30)
        s.commit()
    groups = {g["key"]["tag"]: g for g in _report(engine, group_by=("tag",))["groups"]}
    assert {k: _wall(g)[:2] for k, g in groups.items()} == {"billing": (2, 10), "vip": (1, 10), None: (1, 30)}
    only_vip = _report(engine, group_by=("queue",), where={"tag": ["vip"]})
    assert only_vip["totals"]["cases"] == 1


def test_the_period_is_a_range_of_first_customer_posts_and_next_responses_count_per_turn(engine) -> None:
    with Session(engine) as s:
        case = make_case(s, answer_after_s=60)
        add_post(s, case, T0 + timedelta(minutes=10), "inbound")  # the customer again: we owe
        add_post(s, case, T0 + timedelta(minutes=10, seconds=45), "outbound")  # 45 s
        add_post(s, case, T0 + timedelta(minutes=20), "inbound")  # still owed at the end
        make_case(s, arrived=T0 + timedelta(days=2), answer_after_s=5)
        s.commit()
    first_day = _report(engine, start=T0 - timedelta(hours=1), end=T0 + timedelta(days=1))
    totals = first_day["totals"]
    assert (totals["cases"], totals["inbound_posts"], totals["replies"]) == (1, 3, 2)
    assert _wall(totals)[:2] == (1, 60)
    assert totals["next_response_s"]["wall"]["n"] == 1 and totals["next_response_s"]["wall"]["p50"] == 45
    assert _report(engine)["totals"]["cases"] == 2


def test_a_case_with_two_of_the_filtered_tags_counts_once(engine) -> None:
    with Session(engine) as s:
        make_case(s, answer_after_s=10, tags=["billing", "vip"])
        make_case(s, answer_after_s=20, tags=["vip"])
        make_case(s, answer_after_s=30, tags=["outage"])
        s.commit()
    report = _report(engine, group_by=("queue",), where={"tag": ["billing", "vip"]})
    [forum] = report["groups"]
    assert (forum["cases"], forum["inbound_posts"], forum["replies"]) == (2, 2, 2)
    assert _wall(report["totals"]) == (2, 10, 20, 20, 20)
    by_tag = {
        g["key"]["tag"]: g["cases"]
        for g in _report(engine, group_by=("tag",), where={"tag": ["vip"]})["groups"]
    }
    assert by_tag == {"vip": 2}  # grouped by tag, only the filtered tags are groups
