"""`engage rules …`: check, test, explain and backtest rule files."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rules.engine import RuleSet, evaluate
from rules.errors import RuleFileError
from rules.facts import AuthorHistory, PostFacts, ThreadFacts
from rules.loader import load_ruleset
from rules.outcome import Decision

PACKAGED_RULES = Path(__file__).resolve().parent / "default.yaml"

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def default_rules_path() -> Path:
    try:
        from router.settings import get_settings

        return Path(get_settings().rules_path)
    except ImportError:
        return PACKAGED_RULES


def known_sla_policies() -> frozenset[str] | None:
    """The SLA policy names configured for the service, or None when they cannot be read here."""
    try:
        from router.settings import get_settings
        from router.sla.policy import load_sla_config  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    path = Path(get_settings().sla_config_path)
    if not path.exists():
        return None
    return frozenset(load_sla_config(path).policy_names)


def _load(file: Path | None, sla_policies: tuple[str, ...] = ()) -> RuleSet:
    path = file or default_rules_path()
    known = frozenset(sla_policies) if sla_policies else known_sla_policies()
    try:
        return load_ruleset(path, known_sla_policies=known)
    except RuleFileError as exc:
        for problem in exc.problems:
            err_console.print(escape(str(problem)))
        err_console.print(f"[bold red]{len(exc.problems)} problem(s)[/]; {path} not loaded")
        sys.exit(1)


_FILE = click.argument("file", required=False, type=click.Path(exists=True, path_type=Path))
_SLA = click.option(
    "--sla-policy",
    "sla_policies",
    multiple=True,
    help="A known SLA policy name (repeat). Default: the names of the configured SLA file, if any.",
)


@click.group("rules")
def rules_group() -> None:
    """Rule files: validate, run their examples, explain a decision, replay history."""


@rules_group.command("check")
@_FILE
@_SLA
def check(file: Path | None, sla_policies: tuple[str, ...]) -> None:
    """Validate a rule file or folder; every problem is printed as file:line:column."""
    ruleset = _load(file, sla_policies)
    examples = sum(len(r.examples) for r in ruleset.rules)
    console.print(
        f"ok: {ruleset.source} — {len(ruleset.rules)} rules, {examples} examples, version {ruleset.version}, "
        f"SLA policies {', '.join(sorted(ruleset.sla_policies_used))}"
    )
    if not sla_policies and known_sla_policies() is None:
        err_console.print("note: SLA policy names not checked (no SLA configuration found); use --sla-policy")


@rules_group.command("test")
@_FILE
@_SLA
@click.option("-q", "--quiet", is_flag=True, help="Print failures only.")
def test(file: Path | None, sla_policies: tuple[str, ...], quiet: bool) -> None:
    """Run every rule's examples; exit code 1 if any fails."""
    ruleset = _load(file, sla_policies)
    passed = failed = 0
    for rule in ruleset.rules:
        for example in rule.examples:
            wrong = example.failures(evaluate(example.facts, ruleset))
            where = f"{example.file}:{example.line}"
            text = escape(example.facts.text[:70].replace("\n", " "))
            if wrong:
                failed += 1
                console.print(f"[red]FAIL[/] {rule.id}  {where}  {text}")
                for reason in wrong:
                    console.print(f"       {escape(reason)}")
            else:
                passed += 1
                if not quiet:
                    console.print(f"[green]pass[/] {rule.id}  {where}  {text}")
    colour = "red" if failed else "green"
    console.print(f"[{colour}]{passed} passed, {failed} failed[/] ({ruleset.version})")
    if failed:
        sys.exit(1)


@rules_group.command("explain")
@_FILE
@click.option("--text", help="The post's text.")
@click.option(
    "--post",
    "post_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON post (the normalized post format; may add thread, history, known_customer).",
)
@click.option("--channel", default="x", show_default=True)
@click.option("--account", default="@brand", show_default=True)
@click.option("--author", default="someone", show_default=True)
@click.option("--followers", type=int, default=0, show_default=True)
@click.option("--verified", is_flag=True)
@click.option("--known-customer", is_flag=True)
@click.option("--lang", default=None, help="Platform language tag (detected when absent).")
@click.option("--at", "at", default=None, help="ISO time with zone (default: now).")
@click.option("--thread-posts", type=int, default=1, show_default=True)
@click.option("--distinct-authors", type=int, default=1, show_default=True)
@click.option("--replies-last-hour", type=int, default=0, show_default=True)
@click.option("--open-cases", type=int, default=0, show_default=True)
@click.option("--cases-30d", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@_SLA
def explain(file: Path | None, text: str | None, post_file: Path | None, as_json: bool,
            sla_policies: tuple[str, ...], **options: Any) -> None:  # fmt: skip
    """Decide for one post and show, for every rule, whether it matched and why."""
    if (text is None) == (post_file is None):
        raise click.UsageError("give exactly one of --text or --post")
    if post_file is not None:
        from rules.postio import PostFormatError, facts_from_json

        try:
            facts = facts_from_json(json.loads(post_file.read_text(encoding="utf-8")))
        except (ValueError, PostFormatError) as exc:
            raise click.BadParameter(str(exc), param_hint="--post") from exc
    else:
        facts = _facts_from_options(text or "", options)
    ruleset = _load(file, sla_policies)
    decision = evaluate(facts, ruleset, explain=True)
    if as_json:
        click.echo(json.dumps(explanation_json(decision), ensure_ascii=False, indent=1))
    else:
        _print_decision(decision)


def explanation_json(decision: Decision) -> dict[str, Any]:
    """The stored explanation, plus every rule's verdict."""
    data = decision.explanation()
    data["rules"] = [{"rule": h.rule_id, "matched": h.matched, "because": h.because} for h in decision.hits]
    return data


def _facts_from_options(text: str, o: dict[str, Any]) -> PostFacts:
    at = datetime.now(UTC)
    if o["at"]:
        try:
            at = datetime.fromisoformat(o["at"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--at") from exc
        if at.tzinfo is None:
            raise click.BadParameter("needs a time zone, e.g. 2026-03-04T14:00:00Z", param_hint="--at")
    return PostFacts(
        text=text,
        channel=o["channel"],
        account=o["account"],
        author_handle=o["author"],
        created_at=at.astimezone(UTC),
        author_followers=o["followers"],
        author_verified=o["verified"],
        known_customer=o["known_customer"],
        lang=o["lang"],
        thread=ThreadFacts(o["thread_posts"], o["distinct_authors"], o["replies_last_hour"]),
        history=AuthorHistory(o["open_cases"], o["cases_30d"]),
    )


def _print_decision(d: Decision) -> None:
    console.print(
        f"[bold]{d.queue.value}[/]  priority [bold]{d.priority.label}[/]  sla {d.sla_policy}  "
        f"risk {d.risk:g}  page {'[red]yes[/]' if d.page_pr else 'no'}  "
        f"approval {'yes' if d.needs_approval else 'no'}"
    )
    console.print(
        f"tags: {', '.join(d.tags) or '-'}   matched: {', '.join(d.matched) or '-'}   ({d.ruleset_version})"
    )
    table = Table("rule", "matched", "because")
    for hit in d.hits:
        table.add_row(hit.rule_id, "[green]yes[/]" if hit.matched else "no", escape(hit.because))
    console.print(table)


def _register_backtest() -> None:
    from rules.cli_backtest import backtest

    rules_group.add_command(backtest)


_register_backtest()
