"""The acceptance scenario in a real browser: a forum manager sees a routed case appear live,
claims it, replies (the reply reaches the fake X server), hands a second case to PR; a PR user in
a second browser context sees it and holds it, and the forum manager gets the collision message;
an approval-gated reply waits for approval. Post text cannot run script anywhere."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from router.models import Case
from router.roles import Role
from router.timeutil import utcnow
from router.users import create_user
from tests.queue.conftest import PASSWORD, World

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> is this safe?'
TIMEOUT = 10_000


def set_due(world: World, case_id: int, minutes: int) -> None:
    """The router double sets no SLA; give the queue something to count down."""
    with Session(world.engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.first_response_due_at = case.next_due_at = utcnow() + timedelta(minutes=minutes)
        s.add(case)
        s.commit()


def add_person(world: World, name: str, role: Role) -> None:
    with Session(world.engine) as s:
        create_user(s, name=name, role=role, password=PASSWORD)
        s.commit()


async def signed_in(browser: Any, world: World, name: str) -> Any:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(world.url("/"))
    assert "/login" in page.url
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(world.url("/"))
    return page


async def new_case(world: World, text: str, author: str) -> int:
    return await asyncio.to_thread(world.case, text, author=author)


@pytest.mark.browser
@pytest.mark.asyncio
async def test_the_queue_in_a_real_browser(world: World, browser: Any, artifacts: Path) -> None:
    add_person(world, "fiona", Role.FORUM_MANAGER)
    add_person(world, "paul", Role.PR)
    fiona = await signed_in(browser, world, "fiona")
    assert await fiona.locator("tr.case-row").count() == 0

    # a routed case appears live, without reloading
    first = await new_case(world, "@acme my order never arrived", "maria")
    row = fiona.locator(f'tr[data-case="{first}"]')
    await row.wait_for()
    assert "my order never arrived" in await row.inner_text()
    await fiona.locator("#counts").get_by_text("forum").wait_for()

    # claim it and reply; the reply reaches the fake X server
    await row.get_by_role("link").click()
    await fiona.wait_for_url(re.compile(rf"/cases/{first}$"))
    await fiona.click("#claim-button")
    await fiona.locator("#claim", has_text="You hold this case since").wait_for()
    await fiona.fill("#reply-text", "So sorry, Maria! Please DM us your order number 🙏")
    await fiona.locator("#reply-count", has_text="50").wait_for()  # 48 + the emoji, weighing 2
    await fiona.screenshot(path=str(artifacts / "case.png"), full_page=True)
    await fiona.click("#send")
    await fiona.get_by_text("Reply sent.").wait_for()
    assert [c["text"] for c in world.fake_x.created] == ["So sorry, Maria! Please DM us your order number 🙏"]
    await fiona.locator("article.post.outbound").wait_for()

    # hand a second case to PR
    second = await new_case(world, "your product hurt my kid, I am going to the press", "jon")
    await fiona.goto(world.url("/"))
    await fiona.locator(f'tr[data-case="{second}"] a').click()
    await fiona.select_option("#handoff select[name=queue]", "pr")
    await fiona.fill("#handoff input[name=reason]", "press threat")
    await fiona.click("#handoff button")
    await fiona.wait_for_url(world.url("/"))
    assert world.get_case(second).queue == "pr"

    # a PR user, in a second browser context, sees it and claims it
    paul = await signed_in(browser, world, "paul")
    await paul.locator(f'tr[data-case="{second}"]').wait_for()
    assert await paul.locator(f'tr[data-case="{first}"]').count() == 0  # not PR's queue
    await paul.goto(world.url(f"/cases/{second}"))
    await paul.click("#claim-button")
    await paul.locator("#claim", has_text="You hold this case since").wait_for()

    # the forum manager sees who holds it and gets the collision message on claiming
    await fiona.goto(world.url(f"/cases/{second}"))
    await fiona.locator("#held", has_text="Held by paul since").wait_for()
    await fiona.locator("#presence", has_text="paul is viewing").wait_for()
    await fiona.click("#claim-button")
    assert re.search(r"held by paul since \d\d:\d\d UTC", await fiona.locator("#error").inner_text())

    # an approval-gated reply waits as a draft until PR approves it
    gated = await new_case(world, "I have 2M followers and your service is a joke #approve #risky", "celeb")
    await fiona.goto(world.url(f"/cases/{gated}"))
    await fiona.fill("#reply-text", "We are sorry to hear that. Could you DM us?")
    assert await fiona.locator("#send").inner_text() == "Submit for approval"
    await fiona.click("#send")
    await fiona.get_by_text("waits for approval").wait_for()
    assert len(world.fake_x.created) == 1
    await paul.goto(world.url(f"/cases/{gated}"))
    await paul.get_by_role("button", name="Approve and send").click()
    await paul.get_by_text("Approved and sent.").wait_for()
    assert world.fake_x.created[-1]["text"] == "We are sorry to hear that. Could you DM us?"

    # attacker-controlled text is shown as text and never runs
    hostile = await new_case(world, XSS, "mallory")
    await asyncio.to_thread(set_due, world, hostile, 42)
    late = await new_case(world, "still waiting for my refund, third time asking", "ines")
    await asyncio.to_thread(set_due, world, late, -7)
    await fiona.goto(world.url("/"))
    await fiona.locator(f'tr[data-case="{late}"].breached').wait_for()
    await fiona.locator(f'tr[data-case="{hostile}"] time', has_text="left").wait_for()  # ticking
    await fiona.screenshot(path=str(artifacts / "queue.png"), full_page=True)
    assert await fiona.evaluate("window.__xss") is None
    await fiona.goto(world.url(f"/cases/{hostile}"))
    assert "<script>window.__xss = 1</script>" in await fiona.locator(".post-text").first.inner_text()
    assert await fiona.evaluate("window.__xss") is None
    assert await fiona.locator(".post-text img").count() == 0
    assert fiona.errors == [] and paul.errors == []
