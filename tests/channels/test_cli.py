"""`engage poll x|facebook` against the fakes, with checkpoints in the real database."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from click.testing import CliRunner
from sqlmodel import Session, select

from channels.cli import poll, poll_forever
from router.ingest import Ingestor
from router.models import Checkpoint, Post
from router.services import Services
from router.settings import Settings
from tests.channels.conftest import BRAND_ID, PAGE_ID
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.x_api import FakeXApi
from tests.router.doubles import KeywordRouter


@pytest.fixture
def pipeline(engine, monkeypatch: pytest.MonkeyPatch) -> Services:
    services = Services(settings=Settings(_env_file=None), engine=engine)
    services.__dict__["ingestor"] = Ingestor(engine=engine, router=KeywordRouter())
    monkeypatch.setattr("router.services.build_services", lambda *a, **k: services)
    return services


def stored(engine) -> list[str]:
    with Session(engine) as s:
        return sorted(p.platform_id for p in s.exec(select(Post)).all())


@pytest.mark.asyncio
async def test_poll_x_twice_stores_each_post_once(
    pipeline, engine, fake_x: FakeXApi, x_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "X_API_BASE_URL": str(x_server.make_url("/")),
        "X_BEARER_TOKEN": "app-bearer",
        "X_BRAND_ACCOUNTS": f'{{"acme": "{BRAND_ID}"}}',
        "X_SEARCH_QUERIES": '["acme"]',
    }.items():
        monkeypatch.setenv(name, value)
    pipeline.settings = Settings(_env_file=None)  # settings are read once: read them after the env is set
    fake_x.add_user("9", "maria")
    ids = [fake_x.add_post(f"@acme parcel {i} lost", "9")["id"] for i in range(3)]
    (report,) = await poll_forever("x", loop=False, interval=0)
    assert report.posts == 6 and stored(engine) == sorted(ids)  # search + mentions; ingest dedupes
    newer = fake_x.add_post("@acme still nothing", "9")["id"]
    await poll_forever("x", loop=False, interval=0)  # a new process: checkpoints come from the DB
    assert stored(engine) == sorted([*ids, newer])
    with Session(engine) as s:
        keys = {c.key for c in s.exec(select(Checkpoint)).all()}
    assert keys == {"x:search:acme", f"x:mentions:{BRAND_ID}"}
    assert fake_x.calls(f"/2/users/{BRAND_ID}/mentions")[-1].query["since_id"] == max(ids, key=int)


@pytest.mark.asyncio
async def test_poll_facebook(
    pipeline, engine, fake_graph: FakeGraphApi, graph_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "FACEBOOK_GRAPH_URL": str(graph_server.make_url("/")),
        "FACEBOOK_PAGE_ID": PAGE_ID,
        "FACEBOOK_PAGE_TOKEN": "page-token",
    }.items():
        monkeypatch.setenv(name, value)
    pipeline.settings = Settings(_env_file=None)  # settings are read once: read them after the env is set
    post = fake_graph.add_post("menu")
    comment = fake_graph.add_comment(post["id"], "vegan?")
    (report,) = await poll_forever("facebook", loop=False, interval=0)
    assert report.posts == 2 and stored(engine) == sorted([post["id"], comment["id"]])


def test_poll_command_is_registered() -> None:
    from router.cli import main

    result = CliRunner().invoke(main, ["poll", "--help"])
    assert result.exit_code == 0 and "x|facebook" in result.output
    assert poll.name == "poll"
