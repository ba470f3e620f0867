"""What the queue does to stay fast at a million cases must not change what people see: a search
word planned as rare or as common finds the same cases, tags match whatever their case, status=all
lists every status, capped header counts never under-count, and `engage queue list` lists the
same cases in the same order as the API."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from router import cli
from router.models import Case
from router.roles import Role
from router.web import casequery
from tests.queue.conftest import World
from tests.queue.test_casework import set_due


async def _ids(world: World, query: str, who: Role = Role.MANAGER) -> list[int]:
    status, body = await world.call("GET", f"/api/cases?{query}", who)
    assert status == 200, body
    return [c["id"] for c in body["cases"]]


@pytest.mark.asyncio
@pytest.mark.parametrize("rare_below", [casequery.RARE_WORD, 1])
async def test_a_search_finds_the_same_cases_whether_its_words_are_rare_or_common(
    world: World, rare_below: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(casequery, "RARE_WORD", rare_below)  # 1: every word counts as common
    refund = world.case("where is my REFUND please", author="ana")
    late = world.case("refund is late", author="bob")
    fan = world.case("the app crashes", author="refunder_fan")
    world.case("nothing to see", author="cy")
    for minutes, case_id in ((10, refund), (-5, late), (20, fan)):
        set_due(world, case_id, minutes)
    assert await _ids(world, "q=refund") == [late, refund, fan]  # in posts or the author's handle
    assert await _ids(world, "q=refund+please") == [refund]
    assert await _ids(world, "q=refund+zzqx") == []
    assert await _ids(world, "q=ana") == [refund]
    assert await _ids(world, "q=my+REFUND") == [refund]  # a word under three letters, and case
    assert await _ids(world, "q=refund&limit=1&offset=1") == [refund]
    assert await _ids(world, "q=refund", Role.CUSTOMER_SERVICE) == []  # only what the role sees


@pytest.mark.asyncio
@pytest.mark.parametrize("rare_below", [casequery.RARE_WORD, 1])
async def test_tags_match_whatever_case_the_filter_is_typed_in(
    world: World, rare_below: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(casequery, "RARE_WORD", rare_below)  # 1: every tag counts as common
    billing, other = world.case("invoice wrong"), world.case("hello")
    await world.call("POST", f"/api/cases/{billing}/tags", Role.MANAGER, json={"add": ["Billing", "vip"]})
    assert await _ids(world, "tag=billing") == [billing]
    assert await _ids(world, "tag=BILLING") == [billing]
    assert await _ids(world, "tag=bill") == []  # a whole tag, not a part of one
    assert other not in await _ids(world, "tag=vip")
    assert await _ids(world, "tag=vip&q=invoice") == [billing]
    assert await _ids(world, "tag=vip&q=hello") == []


@pytest.mark.asyncio
async def test_status_all_lists_open_and_resolved_cases_most_urgent_first(world: World) -> None:
    done, soon, overdue = world.case("a"), world.case("b"), world.case("c")
    set_due(world, soon, 5)
    set_due(world, overdue, -5)
    await world.call("POST", f"/api/cases/{done}/resolve", Role.MANAGER)
    assert await _ids(world, "status=all") == [overdue, soon, done]
    assert await _ids(world, "status=resolved") == [done]
    assert await _ids(world, "") == [overdue, soon]


def test_capped_counts_never_count_less_than_there_are(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for text in ("a", "b", "c", "d #cs"):
        world.case(text)
    monkeypatch.setattr(casequery, "COUNT_CAP", 2)
    with Session(world.engine) as s:
        counts = casequery.counts(s, Role.MANAGER)
    assert counts["customer_service"] == 1 and counts["pr"] == 0
    # forum has 3: past the cap, SQLite counts exactly and PostgreSQL estimates (never below the cap)
    assert counts["forum"] == 3 if world.engine.dialect.name == "sqlite" else counts["forum"] >= 2


@pytest.mark.asyncio
async def test_engage_queue_list_lists_what_the_api_lists(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [world.case(t) for t in ("a", "b #cs", "c", "d #pr")]
    for minutes, case_id in zip((30, -10, 5, None), ids, strict=True):
        if minutes is not None:
            set_due(world, case_id, minutes)
    with Session(world.engine) as s:
        s.add(Case(**{**s.get(Case, ids[0]).model_dump(), "id": None, "merged_into_id": ids[2]}))
        s.commit()
    monkeypatch.setattr(cli, "_checked_engine", lambda: world.engine)
    result = CliRunner().invoke(cli.main, ["queue", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [c["id"] for c in listed] == await _ids(world, "")
    assert {"sla_policy", "first_response_s", "next_due_at", "first_post", "routing"} <= listed[0].keys()
    result = CliRunner().invoke(cli.main, ["queue", "list", "--queue", "customer_service", "--json"])
    assert [c["id"] for c in json.loads(result.output)] == [ids[1]]
