"""The /reports page for managers: the SLA report's figures and charts (the same `build_report`
dict the CLI prints), each count linking to the cases behind it, and those cases as CSV.

Filters travel in the query string: `from`, `to` (ISO dates or date-times, UTC; a bare `to`
date includes that day), `group_by` (repeated or comma-separated dimensions) and `as_of` (the
report's "now", carried into every drill-down link so the list matches the figure clicked).
A drill-down names its `figure` and its group: `k_<dimension>=value` per grouping dimension, or
`knull=<dimension>` for a NULL value; no key at all is the totals row."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import click
from aiohttp import web
from markupsafe import Markup, escape
from multidict import MultiMapping

from router.auth import current_user
from router.reports import html as report_html
from router.reports.cli import parse_moment
from router.reports.drill import COLUMNS, Drill, count_cases, drill_cases
from router.reports.render import duration
from router.reports.report import build_report
from router.reports.scope import DIMENSIONS, ReportError, ReportFilter
from router.runtime import run_blocking, services
from router.timeutil import utcnow
from router.web.pages import render

routes = web.RouteTableDef()
PAGE_ROWS = 500
FIGURE_LABELS = {
    "cases": "all cases",
    "answered": "answered cases",
    "resolved": "resolved cases",
    "met": "first-response SLA met",
    "breached": "first-response SLA breached",
    "unassigned": "breached while unassigned",
    "assigned_unanswered": "breached while assigned but unanswered",
    "waiting_approval": "breached while waiting on approval",
    "pr_pages": "cases that paged PR",
}


class BadFilter(ValueError):
    pass


def _moment(value: str, *, end: bool = False) -> datetime:
    try:
        return parse_moment(value, end=end)
    except click.BadParameter as exc:
        raise BadFilter(exc.format_message()) from None


def _filter(query: MultiMapping[str]) -> tuple[ReportFilter, dict[str, str]]:
    """The report filter and the plain form values it came from (to echo and to link with)."""
    names = [n.strip() for v in query.getall("group_by", []) for n in v.split(",") if n.strip()]
    group_by = tuple(dict.fromkeys(names))
    start, end, as_of = (query.get(name, "").strip() for name in ("from", "to", "as_of"))
    try:
        flt = ReportFilter(
            start=_moment(start) if start else None,
            end=_moment(end, end=True) if end else None,
            group_by=group_by,
            as_of=_moment(as_of) if as_of else utcnow(),
        )
    except ReportError as exc:
        raise BadFilter(str(exc)) from None
    form = {"from": start, "to": end, "group_by": ",".join(group_by), "as_of": flt.as_of.isoformat()}
    return flt, form


def _key(query: MultiMapping[str], flt: ReportFilter) -> dict[str, str | None]:
    nulls = set(query.getall("knull", []))
    key: dict[str, str | None] = {}
    for name in flt.group_by:
        if name in nulls:
            key[name] = None
        elif f"k_{name}" in query:
            key[name] = query[f"k_{name}"]
    return key


def drill_query(form: Mapping[str, str], group_key: Mapping[str, Any], figure: str) -> str:
    params: list[tuple[str, str]] = [(k, v) for k, v in form.items() if v]
    params.append(("figure", figure))
    for name, value in group_key.items():
        params.append(("knull", name) if value is None else (f"k_{name}", str(value)))
    return urlencode(params)


def _linker(form: Mapping[str, str]) -> Any:
    def drill(group: Mapping[str, Any], figure: str, value: Any) -> Markup:
        if not value:
            return Markup(escape(value))
        href = "/reports/cases?" + drill_query(form, group["key"], figure)
        return Markup('<a href="{}" class="drill" data-drill="{}">{}</a>').format(href, figure, value)

    return drill


def _error_page(request: web.Request, message: str) -> web.Response:
    form = {name: request.query.get(name, "") for name in ("from", "to", "group_by", "as_of")}
    return render(
        "reports.html",
        status=400,
        user=current_user(request),
        error=message,
        form=form,
        dimensions=list(DIMENSIONS),
        selected=set(form["group_by"].split(",")),
        report=None,
    )


@routes.get("/reports")
async def reports_page(request: web.Request) -> web.Response:
    user = current_user(request)
    try:
        flt, form = _filter(request.query)
    except BadFilter as exc:
        return _error_page(request, str(exc))
    engine = services(request).engine
    report = await run_blocking(request, lambda: build_report(engine, flt))
    return render(
        "reports.html",
        user=user,
        error=None,
        form=form,
        dimensions=list(DIMENSIONS),
        selected=set(flt.group_by),
        report=report,
        charts=report_html.charts(report),
        drill=_linker(form),
        dur=duration,
        json_query=urlencode({k: v for k, v in form.items() if v}),
    )


def _drill(request: web.Request) -> tuple[Drill, dict[str, str]]:
    flt, form = _filter(request.query)
    try:
        return Drill(flt, request.query.get("figure", "cases"), _key(request.query, flt)), form
    except ReportError as exc:
        raise BadFilter(str(exc)) from None


@routes.get("/reports/cases")
async def drill_page(request: web.Request) -> web.Response:
    user = current_user(request)
    try:
        drill, form = _drill(request)
    except BadFilter as exc:
        return _error_page(request, str(exc))
    engine = services(request).engine

    def work() -> tuple[int, list[dict[str, Any]]]:
        return count_cases(engine, drill), drill_cases(engine, drill, limit=PAGE_ROWS)

    total, rows = await run_blocking(request, work)
    query = request.query_string
    return render(
        "reports_cases.html",
        user=user,
        drill=drill,
        label=FIGURE_LABELS[drill.figure],
        total=total,
        rows=rows,
        columns=COLUMNS,
        csv_href="/reports/cases.csv?" + query,
        back_href="/reports?" + urlencode({k: v for k, v in form.items() if v}),
        dur=duration,
    )


@routes.get("/reports/cases.csv")
async def drill_csv(request: web.Request) -> web.Response:
    try:
        drill, _ = _drill(request)
    except BadFilter as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    engine = services(request).engine
    rows = await run_blocking(request, lambda: drill_cases(engine, drill))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(_csv_safe(row) for row in rows)
    name = "report-" + drill.figure + "".join(f"-{k}" for k in drill.key) + ".csv"
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading '."""
    return {
        k: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
        for k, v in row.items()
    }


def register(app: web.Application) -> None:
    app.add_routes(routes)
