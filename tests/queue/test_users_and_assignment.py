"""`engage user add`, the API for users, push assignment round-robin with capacity, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from router import cli
from router.roles import Role
from router.users import ApiToken, User, by_token, check_password
from router.web.access import ROUTES
from router.web.assign import assign_new
from tests.queue.conftest import World


def test_user_add_prints_the_token_once_and_stores_only_hashes(engine) -> None:
    result = CliRunner().invoke(
        cli.main, ["user", "add", "olga", "--role", "pr", "--password-stdin"], input="s3cret words\n"
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("eng_")
    with Session(engine) as s:
        user = s.exec(select(User).where(User.name == "olga")).one()
        stored = s.exec(select(ApiToken)).one()
        assert token not in (user.password_hash or "") and stored.token_sha256 != token
        assert user.password_hash and user.password_hash.startswith("$argon2")
        assert by_token(s, token).name == "olga"  # type: ignore[union-attr]
        assert check_password(s, name="olga", password="s3cret words") is not None
        assert check_password(s, name="olga", password="wrong") is None
    again = CliRunner().invoke(cli.main, ["user", "add", "olga", "--role", "pr"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = CliRunner().invoke(cli.main, ["user", "add", "x", "--role", "boss"])
    assert bad.exit_code == 2


@pytest.mark.asyncio
async def test_admins_create_users_over_the_api(world: World) -> None:
    status, body = await world.call("POST", "/api/users", Role.ADMIN, json={"name": "pete", "role": "pr"})
    assert status == 201 and body["token"].startswith("eng_")
    status, me = await world.call(
        "GET", "/api/me", None, headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert status == 200 and me == {"id": body["id"], "name": "pete", "role": "pr"}
    status, _ = await world.call("POST", "/api/users", Role.ADMIN, json={"name": "pete", "role": "pr"})
    assert status == 409


@pytest.mark.asyncio
async def test_push_assignment_is_round_robin_within_capacity(world: World) -> None:
    for role in (Role.FORUM_MANAGER, Role.MANAGER):
        status, _ = await world.call(
            "POST", "/api/me/availability", role, json={"available": True, "capacity": 2}
        )
        assert status == 200
    cases = [world.case(f"case {i}", author=f"a{i}") for i in range(5)]
    cs_case = world.case("billing #cs", author="b")
    with Session(world.engine) as s:
        assigned = assign_new(s, lease=timedelta(minutes=10))
        s.commit()
    by_case = dict(assigned)
    assert len(assigned) == 4  # two each, then both are full
    assert [by_case.get(c) for c in cases[:4]] == ["forum-manager-user", "manager-user"] * 2
    assert cases[4] not in by_case and cs_case not in by_case  # nobody left with capacity
    assert world.get_case(cases[0]).assignee == "forum-manager-user"
    status, _ = await world.call("POST", f"/api/cases/{cases[0]}/resolve", Role.FORUM_MANAGER)
    with Session(world.engine) as s:
        again = assign_new(s, lease=timedelta(minutes=10))
    assert again == [(cases[4], "forum-manager-user")]


@pytest.mark.asyncio
async def test_the_openapi_document_lists_every_api_route(world: World) -> None:
    status, doc = await world.call("GET", "/api/openapi.json", Role.CUSTOMER_SERVICE)
    assert status == 200 and doc["openapi"].startswith("3.")
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert listed == {k for k in ROUTES if k[1].startswith("/api/")}
    claim = doc["paths"]["/api/cases/{id}/claim"]["post"]
    assert "409" in claim["responses"] and any(p["name"] == "Idempotency-Key" for p in claim["parameters"])
