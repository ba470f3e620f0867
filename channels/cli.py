"""`engage poll x|facebook`: run a channel's poller against its configured endpoint."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import click

from channels.base import InboundPost, PollReport
from channels.registry import CHANNELS, build_poller

POLLABLE = [name for name, spec in CHANNELS.items() if spec.polls]


async def poll_forever(channel: str, *, loop: bool, interval: float) -> list[PollReport]:
    """One sweep (or, with loop, sweeps until interrupted), ingesting through the router's pipeline."""
    from router import db
    from router.checkpoints import DbCheckpointStore
    from router.services import build_services

    db.ensure_schema_current()
    services = build_services()
    ingestor = services.ingestor

    async def sink(posts: Sequence[InboundPost]) -> None:
        await asyncio.to_thread(ingestor.ingest, list(posts), source=f"poll:{channel}")

    reports: list[PollReport] = []
    poller = build_poller(channel, services.settings, DbCheckpointStore(services.engine))
    try:
        while True:
            report = await poller.poll(sink)
            reports.append(report)
            when = f", next poll not before {report.retry_at.isoformat()}" if report.retry_at else ""
            click.echo(f"{channel}: {report.posts} posts{when}")
            for error in report.errors:
                click.echo(f"  {error}", err=True)
            if not loop:
                return reports
            wait = interval
            if report.retry_at is not None:
                wait = max(wait, (report.retry_at - datetime.now(UTC)).total_seconds())
            await asyncio.sleep(wait)
    finally:
        await poller.aclose()


@click.command("poll")
@click.argument("channel", type=click.Choice(POLLABLE))
@click.option("--loop", "keep_polling", is_flag=True, help="Keep polling, honouring rate-limit resets.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between sweeps with --loop.")
def poll(channel: str, keep_polling: bool, interval: float) -> None:
    """Poll X (recent search + brand mentions) or a Facebook Page (feed + comments) once, from the
    saved checkpoints. Credentials and endpoints come from X_* / FACEBOOK_* settings."""
    from router.db import SchemaOutOfDate

    try:
        reports = asyncio.run(poll_forever(channel, loop=keep_polling, interval=interval))
    except SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        return
    if reports and reports[-1].errors and not reports[-1].posts:
        sys.exit(2)
