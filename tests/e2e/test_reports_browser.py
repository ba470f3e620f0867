"""The SLA report in a real browser: the TWCS sample through the real file-ingest path, a manager
opens /reports grouped by channel account, sees the JSON report's figures, follows a drill-down
to the cases behind one, downloads them as CSV, and the page is saved as a screenshot."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from channels.replay import ReplayFormat
from router import cli
from router.file_ingest import ingest_file
from router.ingest import Ingestor
from router.reports.render import duration
from router.roles import Role
from tests.conftest import TWCS_SAMPLE
from tests.e2e.test_queue_browser import TIMEOUT, add_person
from tests.queue.conftest import PASSWORD, World
from tests.router.doubles import KeywordRouter


def ingest_twcs(world: World) -> None:
    found = ingest_file(Ingestor(engine=world.engine, router=KeywordRouter()), TWCS_SAMPLE, ReplayFormat.TWCS)
    assert found.bad_rows == [] and found.result.stored == 121


def json_report() -> dict[str, Any]:
    result = CliRunner().invoke(cli.main, ["report", "sla", "--group-by", "account", "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


@pytest.mark.browser
@pytest.mark.asyncio
async def test_reports_in_a_real_browser(world: World, browser: Any, artifacts: Path) -> None:
    await asyncio.to_thread(ingest_twcs, world)
    add_person(world, "maya", Role.MANAGER)
    report = await asyncio.to_thread(json_report)
    busiest = max(report["groups"], key=lambda g: (g["answered"], g["key"]["account"]))
    account = busiest["key"]["account"]
    assert busiest["answered"] > 1

    context = await browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(world.url("/reports"))
    assert "/login" in page.url
    await page.fill("input[name=name]", "maya")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(world.url("/reports"))

    # the filter form: group by channel account
    await page.check("input[name=group_by][value=account]")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"/reports\?.*group_by=account"))

    # every brand's figures are the JSON report's
    for group in report["groups"]:
        row = page.locator("table.figures tr").filter(
            has=page.locator("td.key", has_text=re.compile(f"^{re.escape(group['key']['account'])}$"))
        )
        assert await row.count() == 1, group["key"]
        assert await row.locator('td[data-figure="cases"]').inner_text() == str(group["cases"])
        assert await row.locator('td[data-figure="answered"]').inner_text() == str(group["answered"])
        shown_p50 = await row.locator('td[data-figure="first_response_p50"]').inner_text()
        assert shown_p50 == duration(group["first_response_s"]["wall"]["p50"])
    totals = page.locator("table.figures tr.total")
    assert await totals.locator('td[data-figure="cases"]').inner_text() == str(report["totals"]["cases"])
    assert await page.locator("svg.chart").count() == 3
    await page.screenshot(path=str(artifacts / "reports.png"), full_page=True)

    # drill down: the busiest brand's answered conversations
    row = page.locator("table.figures tr").filter(
        has=page.locator("td.key", has_text=re.compile(f"^{re.escape(account)}$"))
    )
    await row.locator('td[data-figure="answered"] a').click()
    await page.wait_for_url(re.compile(r"/reports/cases\?.*figure=answered"))
    assert await page.locator("#drill-total").inner_text() == str(busiest["answered"])
    rows = page.locator("tr.drill-row")
    assert await rows.count() == busiest["answered"]
    shown_ids = [await rows.nth(i).get_attribute("data-case") for i in range(await rows.count())]

    # the CSV of those rows, through the browser's download
    async with page.expect_download() as waiting:
        await page.click("#csv")
    download = await waiting.value
    assert download.suggested_filename.endswith(".csv")
    saved = artifacts / "reports-answered.csv"
    await download.save_as(str(saved))
    with saved.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["case_id"] for r in table] == shown_ids
    assert {r["account"] for r in table} == {account}
    seconds = sorted(int(r["first_response_s"]) for r in table)
    assert seconds[(len(seconds) + 1) // 2 - 1] == busiest["first_response_s"]["wall"]["p50"]

    # and a case behind the figure opens
    await rows.first.get_by_role("link").click()
    await page.wait_for_url(re.compile(rf"/cases/{shown_ids[0]}$"))
    assert not errors, errors
    await context.close()
