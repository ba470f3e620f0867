"""`engage`: the command line of Engage Router."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from channels.replay import ReplayFormat
from router import db, logs
from router.settings import get_settings

if TYPE_CHECKING:
    from router.services import Services

console = Console()

err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    sys.exit(1)


def _checked_engine() -> Engine:
    """The database, once we know its schema is the one this code needs."""
    try:
        db.ensure_schema_current()
    except db.SchemaOutOfDate as exc:
        _fail(str(exc))
    return db.get_engine()


def _services_on_current_schema() -> Services:
    _checked_engine()
    from router.services import build_services

    return build_services()


SERVICE_COMMANDS = {"serve", "worker", "poll"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Engage Router: decides, for every public post about a brand, who must answer it and by when."""
    service = ctx.invoked_subcommand in SERVICE_COMMANDS
    logs.configure(
        json_lines=service,  # services log JSON lines for the log pipeline; commands log for people
        level=logging.INFO if verbose or service else logging.WARNING,
        secrets=get_settings().secret_values(),
    )


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply schema migrations up to the version this code needs."""
    db.upgrade()
    console.print(f"database at revision {db.current_revision(db.get_engine())}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ReplayFormat]),
    required=True,
    help="twcs: the Customer Support on Twitter CSV; jsonl: one normalized post per line.",
)
def ingest(file: Path, fmt: str) -> None:
    """Replay a file of posts through the pipeline. Ingesting the same file twice adds nothing;
    malformed rows are reported with their line number and kept in the dead-letter table."""
    from router.file_ingest import ingest_file

    services = _services_on_current_schema()
    columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(f"ingesting {file.name}", total=file.stat().st_size)
        report = ingest_file(
            services.ingestor,
            file,
            ReplayFormat(fmt),
            batch_size=services.settings.ingest_batch_size,
            progress=lambda done: bar.update(task, completed=done),
        )
    r = report.result
    console.print(
        f"{r.received} posts read: {r.stored} stored, {r.duplicates} already known, "
        f"{r.updated} updated, {r.failed + len(report.bad_rows)} dead-lettered"
    )
    for bad in report.bad_rows[:20]:
        err_console.print(f"  {file}:{bad.line}: {bad.reason}")
    if len(report.bad_rows) > 20:
        err_console.print(f"  … and {len(report.bad_rows) - 20} more (engage deadletter list)")


@main.group("queue")
def queue_group() -> None:
    """The unified queue."""


@queue_group.command("list")
@click.option("--queue", "queue_name", help="forum, customer_service or pr")
@click.option(
    "--status",
    default="open",
    show_default=True,
    help="open (new, open and waiting), all, or one of new|open|waiting|resolved",
)
@click.option("--limit", default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON list, one object per case.")
def queue_list(queue_name: str | None, status: str, limit: int, as_json: bool) -> None:
    """List cases, most urgent first."""
    from router.queue import QueueFilter, list_cases

    with Session(_checked_engine()) as session:
        cases = list_cases(session, QueueFilter(queue=queue_name, status=status, limit=limit))
    if as_json:
        click.echo(json.dumps(cases, ensure_ascii=False, indent=1))
        return
    table = Table("id", "queue", "priority", "status", "account", "author", "first post", "rules")
    for c in cases:
        text = (c["first_post"] or {}).get("text", "")
        rules = ", ".join((c["routing"] or {}).get("matched", []))
        table.add_row(
            str(c["id"]),
            c["queue"],
            c["priority"],
            c["status"],
            c["account"],
            c["author"],
            text[:60].replace("\n", " "),
            rules,
        )
    console.print(table)


@main.command()
@click.option("--host", default=None, help="Listen address (default: settings HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: settings PORT, 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the web UI, the JSON API and the webhooks."""
    from router import app

    settings = get_settings()
    app.serve(
        _services_on_current_schema(),
        host=host or settings.host,
        port=port or settings.port,
        announce=console.print,
    )


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker (with the scheduler) on the configured Redis: SLA timers, escalation,
    paging, the audit writer."""
    from workers.run import run_worker

    _checked_engine()
    run_worker(burst=burst, simple=True)  # a fork per job costs more than our jobs do


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("export")
@click.option(
    "--since", default=None, help="Only events at or after this ISO 8601 time (e.g. 2026-11-01T00:00:00Z)."
)
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
def audit_export(since: str | None, fmt: str) -> None:
    """Print the sealed audit log, oldest first, one JSON object per line (with seq and hashes)."""
    from datetime import datetime

    from workers.audit import export_jsonl

    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        _fail(f"--since {since!r} is not an ISO 8601 time")
    if start is not None and start.tzinfo is None:
        _fail("--since needs a time zone offset, e.g. 2026-11-01T00:00:00Z")
    for line in export_jsonl(_checked_engine(), since=start):
        click.echo(line)


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; name the first event that was altered, removed or inserted."""
    from workers.audit import verify_chain

    checked, broken = verify_chain(_checked_engine())
    if broken:
        _fail(f"{broken} ({checked} events verified before it)")
    console.print(f"audit chain intact: {checked} events verified")


@main.group("deadletter")
def deadletter_group() -> None:
    """Input that could not be processed, kept for replay."""


@deadletter_group.command("list")
@click.option("--limit", default=50, show_default=True)
def deadletter_list(limit: int) -> None:
    """Show the most recent dead letters and why they failed."""
    from router.dead_letter import recent

    with Session(_checked_engine()) as session:
        for letter in recent(session, limit=limit):
            console.print(f"#{letter.id} {letter.source} {letter.location or ''}: {letter.reason}")


@main.group("privacy")
def privacy_group() -> None:
    """Data protection requests."""


@privacy_group.command("erase")
@click.option("--author", required=True, help="The person's handle (as stored for the channel).")
@click.option("--channel", default=None, help="Only on this channel (default: every channel).")
@click.option("--actor", required=True, help="Who asked for and performed the erasure (audited).")
def privacy_erase(author: str, channel: str | None, actor: str) -> None:
    """Redact a person's posts and profile. Reports keep their figures; the audit chain still verifies."""
    from router.privacy import erase_author

    report = erase_author(_checked_engine(), handle=author, actor=actor, channel=channel)
    console.print(
        f"erased: {report.posts} posts, {report.cases} cases re-labelled, "
        f"{report.dead_letters} dead letters and {report.webhook_bodies} webhook bodies dropped"
    )


def _register_plugins() -> None:

    from channels.cli import poll
    from router.demo import demo
    from router.reports.cli import report_group
    from router.sla.cli import sla_group
    from router.users_cli import user_group
    from rules.cli import rules_group

    main.add_command(demo)
    main.add_command(poll)
    main.add_command(report_group)
    main.add_command(sla_group)
    main.add_command(rules_group)
    main.add_command(user_group)


_register_plugins()


if __name__ == "__main__":
    main()
