"""`engage demo`: zero configuration — embedded SQLite and Redis, a generated sample, a worker,
and the web app on 127.0.0.1:8080."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session, select

from router import db
from router.demo_data import demo_posts
from router.queue import QueueFilter, list_cases
from router.roles import Role
from router.settings import get_settings
from router.timeutil import utcnow
from router.users import User, create_user
from rules.outcome import Priority

console = Console()


@click.command()
@click.option("--once", is_flag=True, help="Replay the sample, run the worker, print the summary, exit.")
@click.option("--port", default=None, type=int, help="Port to serve on (default 8080).")
def demo(once: bool, port: int | None) -> None:
    """Run Engage Router on a generated multi-channel sample; nothing to configure."""
    from router.services import build_services
    from workers.run import run_worker

    settings = get_settings()
    db.upgrade()
    services = build_services()
    result = services.ingestor.ingest(demo_posts(utcnow()), source="demo")
    console.print(
        f"sample replayed: {result.stored} new posts, {result.duplicates} already known "
        f"(rule set {services.ruleset.version})"
    )
    _ensure_demo_users(services.engine)
    run_worker(burst=True, simple=True)  # seal the audit trail of what was just ingested
    _print_summary(services.engine)
    if once:
        return
    url = f"http://{settings.host}:{port or settings.port}/"
    console.print(f"sign in as one of {', '.join(DEMO_USERS)} with the password [bold]{DEMO_PASSWORD}[/]")
    worker = subprocess.Popen([sys.executable, "-m", "router.cli", "worker"])
    try:
        from router import app

        console.print(f"serving on [bold]{url}[/] — JSON queue at {url}api/cases — Ctrl-C stops")
        app.serve(services, host=settings.host, port=port or settings.port, announce=None)

    finally:
        worker.terminate()
        worker.wait(timeout=10)


DEMO_PASSWORD = "demo"
DEMO_USERS = {f"demo-{role.value.replace('_', '-')}": role for role in Role}


def _ensure_demo_users(engine: Engine) -> None:
    """One user per role, so every screen can be tried; only the demo creates these."""
    with Session(engine) as session:
        for name, role in DEMO_USERS.items():
            if session.exec(select(User).where(User.name == name)).first() is None:
                create_user(session, name=name, role=role, password=DEMO_PASSWORD, actor="demo")
        session.commit()


def _print_summary(engine: object) -> None:
    with Session(engine) as session:  # type: ignore[arg-type]
        cases = list_cases(session, QueueFilter(status="all"))
    counts = Counter((c["queue"], c["priority"]) for c in cases)
    table = Table("queue", *[p.label for p in Priority], "total", title=f"{len(cases)} cases")
    for queue in sorted({q for q, _ in counts}):
        row = [counts[(queue, p.label)] for p in Priority]
        table.add_row(queue, *map(str, row), str(sum(row)))
    console.print(table)
    for c in cases:
        if c["page_pr"] or c["queue"] == "pr":
            console.print(f"[red]PR[/] case {c['id']} ({c['channel']}): {c['first_post']['text'][:80]}")
