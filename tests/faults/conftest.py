"""Private PostgreSQL and Redis for the whole fault session, and the table written at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.checks import Row, table, write_artifact
from tests.faults.harness import PrivatePostgres, PrivateRedis, available

ROWS: list[Row] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: real processes and servers; tens of seconds")


@pytest.fixture(scope="session")
def private_servers() -> Iterator[tuple[PrivatePostgres, PrivateRedis, str]]:
    why = available()
    if why:
        pytest.skip(why)
    from tests.faults.scenarios import make_template

    pg, redis = PrivatePostgres(), PrivateRedis()
    try:
        pg.start()
        redis.start()
        yield pg, redis, make_template(pg, redis)
    finally:
        redis.close()
        pg.close()
        if ROWS:
            path = write_artifact(
                ROWS, "Fault injection (tests/faults): each row is one fault during a post stream"
            )
            print("\n" + table(ROWS) + f"(written to {path})")
