"""The /reports page over HTTP: the figures a manager sees are the JSON report's; every count links
to exactly the cases it counts; the CSV carries those same cases; only managers get in."""

# ruff: noqa: F811  (the `world` fixture is imported from the queue tests and used as a parameter)
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from router import audit, cli
from router.reports.render import duration
from router.roles import Role
from tests.queue.conftest import World, fake_x, no_dotenv, world  # noqa: F401  (the served app)
from tests.reports.factory import T0, make_case

EVIL = '<b>evil</b> & "co"'
PERIOD = {"from": T0.date().isoformat(), "to": (T0 + timedelta(days=2)).date().isoformat()}
FIGURE_OF = {  # data-figure of a cell -> the JSON name of its count
    "cases": "cases",
    "answered": "answered",
    "breaches": "breaches",
}


def seed(world: World) -> None:
    """Cases across accounts, queues, tags and priorities, with every breach cause and a PR page."""
    with Session(world.engine) as s:
        make_case(s, answer_after_s=120, account="acme", due_after_s=60, tags=["billing"])
        make_case(s, answer_after_s=30, account="acme", due_after_s=60, assignee="ann")
        make_case(s, answer_after_s=900, account=EVIL, due_after_s=600, assignee="bob", queue="pr")
        make_case(s, account=EVIL, due_after_s=300, needs_approval=True, assignee="bob", page_pr=True)
        make_case(s, account="globex", due_after_s=60, priority=1, tags=["billing", "legal"])
        make_case(s, arrived=T0 + timedelta(hours=5), answer_after_s=4000, account="globex")
        make_case(s, arrived=T0 + timedelta(hours=6), account="initech", resolved_after_s=50)
        claimed = make_case(s, arrived=T0 + timedelta(hours=7), account="initech", due_after_s=100)
        audit.record(
            s, action="case.claimed", case_id=claimed.id, actor="cara", at=T0 + timedelta(hours=7, seconds=10)
        )
        make_case(s, arrived=T0 - timedelta(days=3), answer_after_s=5, account="acme")  # outside the period
        s.commit()


def cli_report(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli.main, ["report", "sla", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


class Figures(HTMLParser):
    """Rows of the figures table: data-key -> {data-figure: shown text, "links": {drill: href}}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, Any]] = {}
        self._row: dict[str, Any] | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-key" in a:
            self._row = self.rows.setdefault(key(json.loads(a["data-key"] or "{}")), {"links": {}})
        elif tag == "td" and self._row is not None and a.get("data-figure"):
            self._cell = a["data-figure"] or ""
            self._row[self._cell] = ""
        elif tag == "a" and self._row is not None and a.get("data-drill"):
            self._row["links"][a["data-drill"]] = a.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._cell:
            self._row[self._cell] += data.strip()


def key(group_key: dict[str, Any]) -> str:
    return json.dumps(group_key, sort_keys=True)


def figures(page: str) -> dict[str, dict[str, Any]]:
    parser = Figures()
    parser.feed(page)
    return parser.rows


def drill_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="drill-row" data-case="(\d+)"', page)]


async def get(world: World, path: str, role: Role = Role.MANAGER) -> tuple[int, str]:
    status, body = await world.call("GET", path, role)
    return status, body if isinstance(body, str) else json.dumps(body)


def qs(**extra: str) -> str:
    return "&".join(f"{k}={v}" for k, v in {**PERIOD, **extra}.items())


@pytest.mark.asyncio
async def test_the_manager_sees_the_json_reports_figures(world: World) -> None:
    seed(world)
    report = cli_report("--from", PERIOD["from"], "--to", PERIOD["to"], "--group-by", "account")
    status, page = await get(world, "/reports?" + qs(group_by="account"))
    assert status == 200, page
    shown = figures(page)
    assert len(report["groups"]) == 4
    for group in [*report["groups"], report["totals"]]:
        row = shown[key(group["key"])]
        for cell, name in FIGURE_OF.items():
            assert row[cell] == str(group[name]), (group["key"], cell)
        wall = group["first_response_s"]["wall"]
        for stat in ("p50", "p90", "p95", "max"):
            assert row[f"first_response_{stat}"] == duration(wall[stat])
        pct = group["sla_met_pct"]
        assert row["sla_met_pct"] == ("—" if pct is None else f"{pct:.1f} %")
    assert page.count("<svg") == 5
    assert "<script>" not in page.replace('<script src="/static/app.js" defer></script>', "")


@pytest.mark.asyncio
@pytest.mark.parametrize("group_by", ["account", "queue,priority", "tag", ""])
async def test_each_drill_down_lists_exactly_the_cases_its_figure_counts(world: World, group_by: str) -> None:
    seed(world)
    args = ["--from", PERIOD["from"], "--to", PERIOD["to"]] + (["--group-by", group_by] if group_by else [])
    report = cli_report(*args)
    status, page = await get(world, "/reports?" + qs(group_by=group_by))
    assert status == 200
    shown = figures(page)
    checked = 0
    for group in [*report["groups"], report["totals"]] if group_by else [report["totals"]]:
        links = shown[key(group["key"])]["links"]
        expected = {
            "cases": group["cases"],
            "answered": group["answered"],
            "breached": group["breaches"],
            "pr_pages": group["pr_pages"],
            "resolved": group["resolved"],
            "met": group["sla"].get("first_response", {}).get("met", 0),
            **group["breach_causes"],
        }
        for figure, count in expected.items():
            if not count:
                assert figure not in links  # a zero is not a link
                continue
            status, listing = await get(world, unescape(links[figure]))
            assert status == 200, listing
            ids = drill_ids(listing)
            assert len(ids) == count == len(set(ids)), (group["key"], figure)
            assert f'<span id="drill-total">{count}</span>' in listing
            checked += 1
    assert checked >= 6


@pytest.mark.asyncio
async def test_the_csv_has_the_drill_down_rows_and_escapes_nothing_away(world: World) -> None:
    seed(world)
    status, page = await get(world, "/reports?" + qs(group_by="account"))
    links = figures(page)[key({"account": EVIL})]["links"]
    status, listing = await get(world, unescape(links["cases"]))
    assert status == 200
    assert EVIL not in listing and "&lt;b&gt;evil&lt;/b&gt; &amp; &#34;co&#34;" in listing
    csv_href = unescape(re.search(r'<a href="([^"]+)" id="csv"', listing)[1])  # type: ignore[index]
    async with world.http.get(world.url(csv_href), headers=world.people[Role.MANAGER].auth) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        assert r.headers["Content-Disposition"].startswith("attachment; filename=")
        rows = list(csv.DictReader(io.StringIO(await r.text())))
    assert [int(r["case_id"]) for r in rows] == drill_ids(listing)
    assert {r["account"] for r in rows} == {EVIL}
    assert {r["cause"] for r in rows if r["sla"] == "breached"} == {"assigned_unanswered", "waiting_approval"}
    assert [r["first_response_s"] for r in rows] == ["900", ""]


@pytest.mark.asyncio
async def test_the_group_key_and_the_as_of_pin_the_drill_down(world: World) -> None:
    seed(world)
    status, page = await get(world, "/reports?" + qs(group_by="tag"))
    assert status == 200
    none_link = unescape(figures(page)[key({"tag": None})]["links"]["cases"])
    assert "knull=tag" in none_link and "as_of=" in none_link
    status, listing = await get(world, none_link)
    assert status == 200 and len(drill_ids(listing)) == 6  # untagged cases in the period
    _, page = await get(world, "/reports?" + qs(group_by="account", as_of=PERIOD["from"]))
    assert figures(page)[key({})]["breaches"] == "2"  # before most due times passed


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/reports", "/reports/cases?figure=breached", "/reports/cases.csv"])
async def test_only_managers_read_reports(world: World, path: str) -> None:
    for role in Role:
        status, body = await world.call("GET", path, role)
        if role == Role.MANAGER:
            assert status == 200
        else:
            assert status == 403 and body["error"]["code"] == "forbidden", (role, status)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query",
    ["from=yesterday", "group_by=colour", "from=2026-11-20&to=2026-11-01", "to=2026-13-01"],
)
async def test_bad_filters_are_explained_not_crashed_on(world: World, query: str) -> None:
    status, page = await get(world, "/reports?" + query)
    assert status == 400 and 'role="alert"' in page
    status, page = await get(world, "/reports/cases?figure=nonsense")
    assert status == 400 and "unknown figure" in page
    status, page = await get(world, "/reports/cases?group_by=account,queue&k_account=acme")
    assert status == 400 and "group key" in page
