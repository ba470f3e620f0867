"""The report as one self-contained HTML file: inline CSS and SVG, opens offline."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from router.reports import svg
from router.reports.render import duration


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("router", "templates"), autoescape=select_autoescape(["html"]))
    env.globals["dur"] = duration
    return env


def charts(report: dict[str, Any]) -> dict[str, Markup]:
    trend, backlog = report["trend"], report["backlog"]
    days = [row["day"][5:] for row in trend]
    heat = report["heatmap"]
    return {
        "trend": svg.chart(
            days,
            bars=[
                ("cases", [r["cases"] for r in trend], "#8fb3d9"),
                ("answered", [r["answered"] for r in trend], "#2e6da4"),
                ("breaches", [r["breaches"] for r in trend], "#c0392b"),
            ],
            lines=[
                ("first response p50 (s, right axis)", [r["first_response_p50_s"] for r in trend], "#e67e22")
            ],
            title="Cases, answers, breaches and median first response per day",
        ),
        "backlog": svg.chart(
            [row["day"][5:] for row in backlog],
            lines=[
                ("open cases", [r["open"] for r in backlog], "#2e6da4"),
                ("not yet answered", [r["unanswered"] for r in backlog], "#c0392b"),
            ],
            title="Backlog at the end of each day",
        ),
        "distribution": svg.chart(
            [b["band"] for b in report["first_response_histogram"]],
            bars=[("answered cases", [b["cases"] for b in report["first_response_histogram"]], "#2e6da4")],
            title="First response times",
        ),
        "arrivals": svg.heatmap(heat["arrivals"], heat["weekdays"], "Customer posts by hour", "#2e6da4"),
        "replies": svg.heatmap(heat["replies"], heat["weekdays"], "Our replies by hour", "#27ae60"),
    }


def to_html(report: dict[str, Any]) -> str:
    template = environment().get_template("reports_export.html")
    return template.render(report=report, charts=charts(report), drill=lambda group, figure, value: value)
