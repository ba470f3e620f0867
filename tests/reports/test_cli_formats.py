"""`engage report sla` in every format, and its argument checks."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from sqlmodel import Session

from router import cli
from tests.reports.factory import T0, make_case


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli.main, ["report", "sla", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _seed(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        make_case(s, answer_after_s=120, account="acme", due_after_s=60)
        make_case(s, answer_after_s=30, account="<b>evil</b>", due_after_s=60)
        s.commit()


def test_json_csv_table_and_html_agree(engine, tmp_path) -> None:
    _seed(engine)
    period = ["--from", T0.date().isoformat(), "--to", T0.date().isoformat(), "--group-by", "account"]
    report = json.loads(_run(*period, "--format", "json"))
    assert [g["key"]["account"] for g in report["groups"]] == ["<b>evil</b>", "acme"]
    assert report["period"]["from"].startswith(T0.date().isoformat())
    rows = list(csv.DictReader(io.StringIO(_run(*period, "--format", "csv"))))
    assert [(r["account"], r["first_response_wall_p50_s"], r["breaches"]) for r in rows] == [
        ("<b>evil</b>", "30", "0"),
        ("acme", "120", "1"),
    ]
    table = _run(*period)
    assert "acme" in table and "all" in table and "2m00s" in table
    out = tmp_path / "report.html"
    _run(*period, "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 5 and "&lt;b&gt;evil&lt;/b&gt;" in page
    assert not any(marker in page for marker in ("<script", "src=", "href=", "<link", "@import"))


def test_unknown_dimensions_and_bad_dates_are_refused(engine) -> None:
    bad_group = CliRunner().invoke(cli.main, ["report", "sla", "--group-by", "colour"])
    assert bad_group.exit_code == 2 and "unknown colour" in bad_group.output
    bad_date = CliRunner().invoke(cli.main, ["report", "sla", "--from", "yesterday"])
    assert bad_date.exit_code == 2 and "not an ISO date" in bad_date.output
