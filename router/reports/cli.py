"""`engage report …`: the SLA report on the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from sqlalchemy import Engine

from router import db
from router.reports.scope import DIMENSIONS, ReportError, ReportFilter

FORMATS = ("table", "json", "csv", "html")


def parse_moment(value: str, *, end: bool = False) -> datetime:
    """ISO date or date-time; a bare date is a whole UTC day (so --to 2017-10-31 includes the 31st)."""
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (2017-10-31) or date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_group_by(value: str | None) -> tuple[str, ...]:
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}")
    return names


def parse_filters(values: tuple[str, ...]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for item in values:
        name, _, value = item.partition("=")
        if name.strip() not in DIMENSIONS or not value:
            raise click.BadParameter(f"{item!r}: use DIMENSION=VALUE with one of {', '.join(DIMENSIONS)}")
        where.setdefault(name.strip(), []).extend(v.strip() for v in value.split(","))
    return where


def _engine() -> Engine:
    try:
        db.ensure_schema_current()
    except db.SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    return db.get_engine()


@click.group("report")
def report_group() -> None:
    """Reports for managers."""


@report_group.command("sla")
@click.option("--from", "start", help="Period start: ISO date or date-time (UTC if no offset).")
@click.option("--to", "end", help="Period end, exclusive; a bare date includes that whole day.")
@click.option("--group-by", help=f"Comma-separated: {', '.join(DIMENSIONS)}.")
@click.option("--filter", "filters", multiple=True, help="Keep only DIMENSION=VALUE[,VALUE]; repeatable.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE, not stdout.")
def sla_command(
    start: str | None,
    end: str | None,
    group_by: str | None,
    filters: tuple[str, ...],
    fmt: str,
    out: Path | None,
) -> None:
    """SLA figures for a period (default: everything stored): volume, first/next response and
    resolution times (p50/p90/p95/max, wall-clock and business), SLA met, breaches by cause,
    handoffs, PR pages, trend, backlog and an hour-of-week heatmap."""
    from router.reports import html, render
    from router.reports.report import build_report

    try:
        flt = ReportFilter(
            start=parse_moment(start) if start else None,
            end=parse_moment(end, end=True) if end else None,
            group_by=parse_group_by(group_by),
            where=parse_filters(filters),
        )
    except ReportError as exc:
        raise click.UsageError(str(exc)) from None
    report = build_report(_engine(), flt)
    if fmt == "table":
        console = Console(
            file=out.open("w", encoding="utf-8") if out else sys.stdout, width=200 if out else None
        )
        console.print(render.to_table(report))
        return
    if fmt == "json":
        text = json.dumps(report, ensure_ascii=False, indent=1)
    elif fmt == "csv":
        text = render.to_csv(report)
    else:
        text = html.to_html(report)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)
