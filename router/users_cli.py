"""`engage user`: create users and list them."""

from __future__ import annotations

import sys

import click
from sqlmodel import Session

from router.roles import Role


@click.group("user")
def user_group() -> None:
    """People who work the queue, and their roles."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do."
)
@click.option(
    "--password-stdin", is_flag=True, help="Read a password for the web login from standard input (one line)."
)
def user_add(name: str, role: str, password_stdin: bool) -> None:
    """Create a user and print their API token. The token is shown this once and stored hashed."""
    from router import users
    from router.cli import _checked_engine, _fail

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        _fail("--password-stdin was given but standard input had no password")
    with Session(_checked_engine()) as session:
        try:
            _, token = users.create_user(session, name=name, role=Role(role), password=password, actor="cli")
        except ValueError as exc:
            _fail(str(exc))
        session.commit()
    click.echo(f"created {name} ({role}); API token, shown once:", err=True)
    click.echo(token)


@user_group.command("list")
def user_list() -> None:
    """Users and their roles."""
    from router import users
    from router.cli import _checked_engine

    with Session(_checked_engine()) as session:
        for user in users.list_users(session):
            click.echo(f"{user.name}\t{user.role}\t{'active' if user.active else 'inactive'}")
