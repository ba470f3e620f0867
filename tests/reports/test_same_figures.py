"""The report read through its per-report table of cases gives exactly the figures of the former
per-figure SQL (tests/reports/legacy, frozen), on random cases with every kind of event."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from router.reports.report import build_report
from router.reports.scope import ReportFilter
from tests.reports.factory import T0, add_post, event, make_case
from tests.reports.legacy.report import build_report as legacy_report
from tests.reports.legacy.scope import ReportFilter as LegacyFilter

AS_OF = T0 + timedelta(days=4)


def _seed(engine, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    with Session(engine) as s:
        cases = []
        for _ in range(120):
            arrived = T0 + timedelta(seconds=rng.randrange(-2 * 86400, 5 * 86400))
            answered = rng.choice([None, rng.randrange(5, 7200)])
            case = make_case(
                s,
                arrived=arrived,
                answer_after_s=answered,
                queue=rng.choice(["forum", "customer_service", "pr"]),
                channel=rng.choice(["x", "facebook"]),
                account=rng.choice(["acme", "globex", "initech"]),
                priority=rng.randint(1, 4),
                tags=rng.choice([[], [], ["billing"], ["vip"], ["billing", "vip"]]),
                assignee=rng.choice([None, "ann", "bob"]),
                needs_approval=rng.random() < 0.2,
                due_after_s=rng.choice([None, 600, 1800, 3600]),
                resolved_after_s=(answered + rng.randrange(0, 86400))
                if answered and rng.random() < 0.6
                else None,
                page_pr=rng.random() < 0.15,
                sla_policy=rng.choice(["standard", "no-such-policy"]),
            )
            case.resolution_due_at = (
                arrived + timedelta(hours=rng.choice([2, 24])) if rng.random() < 0.7 else None
            )
            if answered and rng.random() < 0.5:  # the customer again, and maybe our next reply
                again = arrived + timedelta(seconds=answered + rng.randrange(60, 20000))
                add_post(s, case, again, "inbound")
                if rng.random() < 0.7:
                    add_post(s, case, again + timedelta(seconds=rng.randrange(1, 9000)), "outbound")
            for action in rng.sample(
                [
                    "case.claimed",
                    "case.released",
                    "case.claim_expired",
                    "reply.approval_requested",
                    "reply.approved",
                    "case.handoff",
                    "pr.paged",
                    "pr.acknowledged",
                ],
                rng.randrange(0, 5),
            ):
                details = {"from_queue": "forum", "to_queue": case.queue} if action == "case.handoff" else {}
                event(s, case, action, arrived + timedelta(seconds=rng.randrange(0, 7200)), **details)
            cases.append(case)
        for case in rng.sample(cases, 6):  # folded into another case: in no report
            case.merged_into_id = cases[0].id
        cases[1].first_inbound_at = None  # no customer post yet: in no report
        s.commit()


FILTERS: list[dict[str, Any]] = [
    {},
    {"group_by": ("queue", "channel")},
    {"start": T0, "end": T0 + timedelta(days=2), "group_by": ("queue", "channel")},
    {"start": T0 - timedelta(hours=12), "group_by": ("agent",)},
    {"end": T0 + timedelta(days=1), "group_by": ("tag",)},
    {"start": T0, "end": T0 + timedelta(days=3), "group_by": ("priority", "account")},
    {"start": T0, "end": T0 + timedelta(days=3), "where": {"queue": ["pr", "forum"]}},
    {"group_by": ("channel",), "where": {"tag": ["vip"]}},
]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_figures_are_those_of_the_former_queries(engine, seed: int) -> None:
    _seed(engine, seed)
    for kw in FILTERS:
        new = build_report(engine, ReportFilter(as_of=AS_OF, **kw))
        old = legacy_report(engine, LegacyFilter(as_of=AS_OF, **kw))  # type: ignore[arg-type]
        assert new["totals"]["cases"] > 0, kw
        for part in old:
            assert new[part] == old[part], (kw, part)
    totals = build_report(engine, ReportFilter(as_of=AS_OF))["totals"]  # the data exercises every figure
    assert totals["breaches"] and all(totals["breach_causes"].values()) and totals["handoffs"]
    assert totals["next_response_s"]["wall"]["n"] and totals["pr_ack_s"]["n"]
    assert totals["first_response_s"]["business"]["n"] and totals["resolution_s"]["business"]["n"]
