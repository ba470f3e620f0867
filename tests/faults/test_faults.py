"""Faults during a stream of posts through the real router: after each, every accepted post is
stored exactly once, routed once, the inbox is drained and the audit chain is whole."""

from __future__ import annotations

import pytest

from tests.faults import scenarios
from tests.faults.checks import Row
from tests.faults.conftest import ROWS
from tests.faults.harness import PrivatePostgres, PrivateRedis
from tests.faults.x_poll import run_x_poll_storm

Servers = tuple[PrivatePostgres, PrivateRedis, str]


def _check(row: Row) -> None:
    ROWS.append(row)
    assert row.posts_in > 0
    assert row.ok, f"{row.fault}: {row}"
    assert row.stored == row.posts_in and row.duplicates == 0 and row.unrouted == 0
    assert row.unsealed_audit == 0 and row.audit_chain_ok


@pytest.mark.slow
@pytest.mark.parametrize("fault", scenarios.HTTP_FAULTS, ids=lambda f: f.__name__)
def test_stream_survives(private_servers: Servers, fault: type[scenarios.Fault]) -> None:
    pg, redis, template = private_servers
    _check(scenarios.run(pg, redis, template, fault(), scenarios.Load()))


@pytest.mark.slow
def test_x_poller_survives_500s_and_429s(private_servers: Servers) -> None:
    pg, redis, template = private_servers
    _check(run_x_poll_storm(pg, redis, template))
