"""SLA met / breached / pending, and every breach cause, judged at the due time."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from router.reports.report import build_report
from router.reports.scope import ReportFilter
from tests.reports.factory import T0, event, make_case

DUE = 900  # 15 minutes
AT_DUE = T0 + timedelta(seconds=DUE)


def _report(engine, **kw):  # type: ignore[no-untyped-def]
    return build_report(engine, ReportFilter(as_of=T0 + timedelta(hours=2), **kw))


def test_met_breached_and_pending_targets(engine) -> None:
    with Session(engine) as s:
        make_case(s, answer_after_s=DUE, due_after_s=DUE, account="on-time")  # exactly at due: met
        make_case(s, answer_after_s=DUE + 1, due_after_s=DUE, account="late")  # one second late
        make_case(s, due_after_s=DUE, account="never")  # unanswered, due passed before as_of
        make_case(s, due_after_s=3 * 3600, account="not-yet")  # unanswered, due after as_of
        make_case(s, answer_after_s=5, account="no-target")  # no due time: no SLA
        s.commit()
    report = _report(engine, group_by=("account",))
    sla = {g["key"]["account"]: (g["sla"]["first_response"], g["breaches"]) for g in report["groups"]}
    assert sla["on-time"] == ({"met": 1, "breached": 0, "pending": 0, "met_pct": 100.0}, 0)
    assert sla["late"] == ({"met": 0, "breached": 1, "pending": 0, "met_pct": 0.0}, 1)
    assert sla["never"][1] == 1
    assert sla["not-yet"] == ({"met": 0, "breached": 0, "pending": 1, "met_pct": None}, 0)
    assert sla["no-target"][0]["met_pct"] is None
    totals = report["totals"]
    assert (totals["sla_met_pct"], totals["breaches"]) == (33.3, 2)
    assert [b["account"] for b in report["breaches_list"]] == ["late", "never"]


def test_every_breach_cause_from_the_audit_trail(engine) -> None:
    with Session(engine) as s:
        # nobody ever claimed it
        make_case(s, due_after_s=DUE, account="unassigned")
        # claimed before the due time and still held then
        held = make_case(s, due_after_s=DUE, account="assigned")
        event(s, held, "case.claimed", T0 + timedelta(minutes=5), user="ann")
        # claimed, then the claim expired before the due time: back in the queue
        dropped = make_case(s, due_after_s=DUE, account="released")
        event(s, dropped, "case.claimed", T0 + timedelta(minutes=1), user="ann")
        event(s, dropped, "case.claim_expired", T0 + timedelta(minutes=6), user="ann")
        # claimed only after the breach: it waited unassigned
        late_claim = make_case(s, due_after_s=DUE, account="claimed-late", assignee="bob")
        event(s, late_claim, "case.claimed", AT_DUE + timedelta(minutes=1), user="bob")
        # a drafted reply waited for approval past the due time
        gated = make_case(s, due_after_s=DUE, account="approval", needs_approval=True)
        event(s, gated, "case.claimed", T0 + timedelta(minutes=2), user="ann")
        event(s, gated, "reply.approval_requested", T0 + timedelta(minutes=4), user="ann")
        event(s, gated, "reply.approved", AT_DUE + timedelta(minutes=3), user="pr-lead")
        # approved before the due time, yet the reply did not go out: the assignee's breach
        approved = make_case(s, due_after_s=DUE, account="approved-in-time", needs_approval=True)
        event(s, approved, "case.claimed", T0 + timedelta(minutes=2), user="ann")
        event(s, approved, "reply.approval_requested", T0 + timedelta(minutes=4), user="ann")
        event(s, approved, "reply.approved", T0 + timedelta(minutes=8), user="pr-lead")
        s.commit()
    report = _report(engine, group_by=("account",))
    causes = {b["account"]: b["cause"] for b in report["breaches_list"]}
    assert causes == {
        "unassigned": "unassigned",
        "assigned": "assigned_unanswered",
        "released": "unassigned",
        "claimed-late": "unassigned",
        "approval": "waiting_approval",
        "approved-in-time": "assigned_unanswered",
    }
    assert report["totals"]["breach_causes"] == {
        "unassigned": 3,
        "assigned_unanswered": 2,
        "waiting_approval": 1,
    }
    per_group = {g["key"]["account"]: g["breach_causes"] for g in report["groups"]}
    assert per_group["approval"] == {"unassigned": 0, "assigned_unanswered": 0, "waiting_approval": 1}


def test_without_queue_events_the_cause_falls_back_to_the_case_fields(engine) -> None:
    with Session(engine) as s:
        make_case(s, due_after_s=DUE, account="held", assignee="ann")
        make_case(s, due_after_s=DUE, account="gated", assignee="ann", needs_approval=True)
        make_case(s, due_after_s=DUE, account="gated-nobody", needs_approval=True)
        s.commit()
    causes = {b["account"]: b["cause"] for b in _report(engine)["breaches_list"]}
    assert causes == {
        "held": "assigned_unanswered",
        "gated": "waiting_approval",
        "gated-nobody": "unassigned",
    }


def test_handoffs_and_pr_time_to_acknowledge(engine) -> None:
    with Session(engine) as s:
        moved = make_case(s, queue="pr", answer_after_s=60)
        event(s, moved, "case.handoff", T0 + timedelta(minutes=1), from_queue="forum", to_queue="pr")
        paged = make_case(s, queue="pr", page_pr=True)
        event(s, paged, "pr.paged", T0 + timedelta(minutes=1))
        event(s, paged, "pr.acknowledged", T0 + timedelta(minutes=4))
        make_case(s, queue="pr", page_pr=True)  # paged, never acknowledged
        s.commit()
    report = _report(engine, group_by=("queue",))
    assert report["handoffs"] == [{"from": "forum", "to": "pr", "count": 1}]
    [pr] = report["groups"]
    assert (pr["handoffs"], pr["pr_pages"], pr["pr_ack_s"]["n"], pr["pr_ack_s"]["p50"]) == (1, 2, 1, 180)
