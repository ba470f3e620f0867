"""`engage rules backtest`: read stored posts (thin), compare in rules/backtest.py (pure), print."""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from rules.backtest import BacktestReport, ReplayPost
from rules.backtest import backtest as run_backtest
from rules.facts import AuthorHistory, PostFacts, ThreadFacts

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    found = _SPAN.match(text.lower())
    if not found:
        raise click.BadParameter("a span like 30m, 24h, 7d or 2w", param_hint="--since")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@click.command("backtest")
@click.argument("new_file", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--against",
    "current_file",
    type=click.Path(exists=True, path_type=Path),
    help="The rules to compare with (default: RULES_PATH).",
)
@click.option("--since", "since", default="7d", show_default=True, help="Replay posts of this period.")
@click.option("--limit", type=int, default=None, help="Replay at most this many posts (the most recent).")
@click.option("--sample", "sample_size", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def backtest(new_file: Path, current_file: Path | None, since: str, limit: int | None, sample_size: int,
             as_json: bool) -> None:  # fmt: skip
    """Replay stored posts through the current and the new rules; show what would change."""
    from sqlmodel import Session

    from router import db
    from rules.cli import _load, err_console

    span = parse_since(since)
    current, new = _load(current_file), _load(new_file)
    try:
        db.ensure_schema_current()
    except db.SchemaOutOfDate as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise SystemExit(1) from exc
    start = datetime.now(UTC) - span
    with Session(db.get_engine()) as session:
        posts = list(stored_posts(session, start=start, limit=limit))
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("replaying", total=len(posts))
        report = run_backtest(
            posts, current, new, sample_size=sample_size, progress=lambda n: bar.update(task, completed=n)
        )
    if as_json:
        data = report.to_json()
        data |= {"since": start.isoformat(), "current": str(current.source), "new": str(new.source)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print_report(report, since=since)


def stored_posts(session: Any, *, start: datetime, limit: int | None = None) -> Iterator[ReplayPost]:
    """Inbound posts since `start`, oldest first, with the thread and author facts they had then
    (reconstructed from the stored posts and cases)."""
    from sqlmodel import col, select

    from router.models import Case, Post

    query = select(Post).where(Post.direction == "inbound", col(Post.created_at) >= start)
    query = query.where(col(Post.removed).is_(False)).order_by(
        col(Post.created_at).desc(), col(Post.id).desc()
    )
    rows = list(session.exec(query.limit(limit) if limit else query).all())[::-1]
    case_ids = {p.case_id for p in rows if p.case_id is not None}
    timeline: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for chunk in _chunks(sorted(case_ids)):
        for case_id, at, author in session.exec(
            select(Post.case_id, Post.created_at, Post.author_handle).where(col(Post.case_id).in_(chunk))
        ).all():
            timeline[case_id].append((at, author))
    for events in timeline.values():
        events.sort()
    authors = {(p.channel, p.author_handle) for p in rows}
    cases_by_author: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for chunk in _chunks(sorted({h for _, h in authors})):
        for case in session.exec(select(Case).where(col(Case.author_handle).in_(chunk))).all():
            if (case.channel, case.author_handle) in authors:
                cases_by_author[(case.channel, case.author_handle)].append(case)
    for post in rows:
        thread = _thread(timeline.get(post.case_id or -1, []), post.created_at)
        history, known = _history(
            cases_by_author[(post.channel, post.author_handle)], post.case_id, post.created_at
        )
        facts = PostFacts(
            text=post.text,
            channel=post.channel,
            account=post.account,
            author_handle=post.author_handle,
            created_at=post.created_at,
            author_followers=post.author_followers,
            author_verified=post.author_verified,
            known_customer=known,
            lang=post.lang,
            thread=thread,
            history=history,
        )
        yield ReplayPost(f"{post.channel}:{post.platform_id}", facts)


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _thread(events: list[tuple[datetime, str]], at: datetime) -> ThreadFacts:
    upto = events[: bisect.bisect_right(events, (at, "\uffff"))]
    if not upto:
        return ThreadFacts()
    recent = len(upto) - bisect.bisect_left(upto, (at - timedelta(hours=1), ""))
    return ThreadFacts(
        posts=len(upto), distinct_authors=len({a for _, a in upto}), replies_last_hour=recent - 1
    )


def _history(cases: list[Any], case_id: int | None, at: datetime) -> tuple[AuthorHistory, bool]:
    earlier = [c for c in cases if c.id != case_id and c.created_at < at and c.status != "merged"]
    open_then = [c for c in earlier if c.resolved_at is None or c.resolved_at > at]
    recent = [c for c in earlier if c.created_at >= at - timedelta(days=30)]
    return AuthorHistory(open_cases=len(open_then), cases_30d=len(recent)), bool(earlier)


def print_report(report: BacktestReport, *, since: str) -> None:
    from rules.cli import console

    share = f" ({report.changed / report.posts:.1%})" if report.posts else ""
    console.print(
        f"[bold]{report.posts}[/] inbound posts of the last {since} replayed: "
        f"[bold]{report.changed}[/] would be routed differently{share}"
    )
    console.print(f"current {report.current_version}  →  new {report.new_version}")
    queues = Table("queue", "current", "new", "change", title="Posts per queue")
    for name in sorted(set(report.queues_before) | set(report.queues_after)):
        a, b = report.queues_before[name], report.queues_after[name]
        queues.add_row(name, str(a), str(b), f"{b - a:+d}")
    console.print(queues)
    for title, moves in (
        ("Queue moves", report.queue_moves),
        ("Priority moves", report.priority_moves),
        ("SLA policy moves", report.sla_moves),
    ):
        if moves:
            table = Table("from", "to", "posts", title=title)
            for (source, target), n in moves.most_common():
                table.add_row(str(source), str(target), str(n))

            console.print(table)
    if report.paging:
        console.print(
            f"PR paging: {report.paging['starts']} posts start paging, {report.paging['stops']} stop"
        )
    causes = Table("rule", "starts firing", "stops firing", "fires with changed actions", title="Which rules")
    for rule in sorted(set(report.rules_started) | set(report.rules_stopped) | set(report.rules_changed)):
        causes.add_row(
            rule,
            str(report.rules_started[rule]),
            str(report.rules_stopped[rule]),
            str(report.rules_changed[rule]),
        )
    if causes.row_count:
        console.print(causes)
    if report.samples:
        table = Table("post", "text", "current", "new", "because", title="Sample of affected posts")
        for s in report.samples:
            table.add_row(
                s.key,
                escape(s.text[:80]),
                f"{s.before['queue']}/{s.before['priority']}",
                f"{s.after['queue']}/{s.after['priority']}",
                " ".join(s.causes),
            )
        console.print(table)
