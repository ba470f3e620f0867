"""`engage sla`: check an SLA file and compute due times by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from router.sla.calendar import ClockPaused, Pause, add_business_time
from router.sla.policy import SlaConfig, SlaConfigError, load_sla_config


def _config(path: Path | None) -> SlaConfig:
    if path is None:
        from router.settings import get_settings

        path = Path(get_settings().sla_config_path)
    try:
        return load_sla_config(path)
    except SlaConfigError as exc:
        raise click.ClickException(f"{path} not loaded:\n{exc}") from None


def _moment(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{what} `{value}` is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise click.BadParameter(f"{what} `{value}` needs an offset, e.g. 2026-11-20T18:00:00+01:00 or Z")
    return parsed


def _pause(value: str) -> Pause:
    start, sep, end = value.partition("/")
    if not sep:
        raise click.BadParameter(f"a pause is START/END (END may be empty: still paused), got `{value}`")
    return _moment(start, "pause start"), _moment(end, "pause end") if end.strip() else None


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SLA file (default: SLA_CONFIG_PATH, rules/sla.yaml).",
)


@click.group("sla")
def sla_group() -> None:
    """SLA calendars and policies (rules/sla.yaml)."""


@sla_group.command("due")
@click.option("--calendar", "calendar_name", required=True, help="Calendar name in the SLA file.")
@config_option
@click.option("--start", required=True, help="When the clock starts, ISO 8601 with offset.")
@click.option("--minutes", required=True, type=click.FloatRange(min=0), help="Business minutes allowed.")
@click.option("--pause", "pauses", multiple=True, help="START/END when the clock stands still; repeatable.")
def due(
    calendar_name: str, config_path: Path | None, start: str, minutes: float, pauses: tuple[str, ...]
) -> None:
    """Print when MINUTES of business time from START run out, in the calendar's local time."""
    config = _config(config_path)
    try:
        calendar = config.calendar(calendar_name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--calendar") from None
    try:
        moment = add_business_time(calendar, _moment(start, "--start"), minutes, [_pause(p) for p in pauses])
    except ClockPaused:
        raise click.ClickException("never: an open-ended pause stops the clock first") from None
    click.echo(moment.astimezone(calendar.timezone).isoformat())


@sla_group.command("check")
@config_option
def check(config_path: Path | None) -> None:
    """Load the SLA file and list its calendars, policies and ladders, or its problems."""
    config = _config(config_path)
    for name, calendar in config.calendars.items():
        click.echo(f"calendar {name}: {calendar.timezone.key}{' 24x7' if calendar.is_24x7 else ''}")
    for policy in config.policies.values():
        default = " (default)" if policy.name == config.default_policy else ""
        click.echo(
            f"policy {policy.name}{default}: first {policy.first_response:g}m, "
            f"next {policy.next_response:g}m, "
            f"resolution {'-' if policy.resolution is None else f'{policy.resolution:g}m'}, "
            f"warn at {policy.warn_at:.0%}, calendar {policy.calendar}, version {policy.version}"
        )
    for name, rota in config.rotations.items():
        click.echo(
            f"oncall {name}: {', '.join(rota.people)} ({rota.timezone.key}, handoff {rota.handoff:%H:%M})"
        )
    for queue, stages in config.ladders.items():
        steps = "; ".join(f"{s.at.text}: {', '.join(s.do)}" for s in stages)
        click.echo(f"escalation {queue} (lead {config.lead(queue) or '-'}): {steps}")
