"""The report as a terminal table (rich) and as CSV: one row per group, same columns."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Group
from rich.table import Table

TIME_FIGURES = ("first_response_s", "next_response_s", "resolution_s")
STATS = ("p50", "p90", "p95", "max")
CAUSES = ("unassigned", "assigned_unanswered", "waiting_approval")


def flatten(report: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {name: group["key"].get(name) for name in report["period"]["group_by"]}
    for name in ("cases", "answered", "resolved", "inbound_posts", "replies"):
        row[name] = group.get(name, 0)
    for figure in TIME_FIGURES:
        for clock in ("wall", "business"):
            for stat in STATS:
                row[f"{figure[:-2]}_{clock}_{stat}_s"] = group.get(figure, {}).get(clock, {}).get(stat)
    row["sla_met_pct"] = group.get("sla_met_pct")
    row["breaches"] = group.get("breaches", 0)
    for cause in CAUSES:
        row[f"breaches_{cause}"] = group.get("breach_causes", {}).get(cause, 0)
    row["handoffs"] = group.get("handoffs", 0)
    row["pr_pages"] = group.get("pr_pages", 0)
    for stat in STATS:
        row[f"pr_ack_{stat}_s"] = group.get("pr_ack_s", {}).get(stat)
    return row


def to_csv(report: dict[str, Any]) -> str:
    rows = [flatten(report, g) for g in report["groups"]]
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def duration(seconds: int | float | None) -> str:
    """3s, 4m05s, 2h03m, 3d04h: short and exact enough for a table."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _times(group: dict[str, Any], figure: str, clock: str) -> str:
    d = group.get(figure, {}).get(clock, {})
    if not d.get("n"):
        return "—"
    return " / ".join(duration(d.get(stat)) for stat in ("p50", "p90", "max"))


def to_table(report: dict[str, Any]) -> Group:
    period = report["period"]
    names = period["group_by"]
    title = f"SLA report {period['from'] or 'everything'} → {period['to'] or 'now'} (UTC)"
    table = Table(*(n for n in names), "cases", "answered", "posts\nin/out", title=title)
    table.add_column("first response\np50/p90/max\nwall | business")
    table.add_column("next response\np50/p90/max")
    table.add_column("SLA\nmet")
    table.add_column("breaches (unass./\nassigned/approval)")
    table.add_column("hand-\noffs")
    table.add_column("PR pages\n· ack p50")
    for group in report["groups"] if names else []:
        table.add_row(*(_key(group["key"].get(n)) for n in names), *_cells(group))
    if names:
        table.add_section()
        table.add_row(*(["all"] + [""] * (len(names) - 1)), *_cells(report["totals"]), style="bold")
    else:
        table.add_row(*_cells(report["totals"]))
    flows = Table("handoff from", "to", "count", title="Handoffs between queues")
    for flow in report["handoffs"]:
        flows.add_row(str(flow["from"]), str(flow["to"]), str(flow["count"]))
    parts: list[Any] = [table]
    if report["handoffs"]:
        parts.append(flows)
    return Group(*parts)


def _cells(group: dict[str, Any]) -> list[str]:
    causes = group.get("breach_causes", {})
    pct = group.get("sla_met_pct")
    return [
        str(group["cases"]),
        str(group["answered"]),
        f"{group['inbound_posts']} / {group['replies']}",
        f"{_times(group, 'first_response_s', 'wall')} | {_times(group, 'first_response_s', 'business')}",
        _times(group, "next_response_s", "wall"),
        "—" if pct is None else f"{pct:.1f} %",
        f"{group['breaches']} ({'/'.join(str(causes.get(c, 0)) for c in CAUSES)})",
        str(group.get("handoffs", 0)),
        f"{group['pr_pages']} · {duration(group.get('pr_ack_s', {}).get('p50'))}",
    ]


def _key(value: Any) -> str:
    return "(none)" if value is None else str(value)
