import click


@click.command("backtest")
def backtest() -> None:
    """Replay stored posts through two rule sets."""
