"""The root `triggers` command: wires the command groups together."""

from __future__ import annotations

import typer

from .._constants import SDK_VERSION
from .commands import config, deliveries, dlq, events, forward, inbox, listen, schemas, subscriptions, trigger

__all__ = ["app"]

EPILOG = (
    "Exit codes: 0 ok · 1 API error · 2 usage error · 3 connection error · "
    "4 incomplete (rejected batch items, incompatible schema) · 130 interrupted. "
    "Settings: flags > TRIGGERS_API_KEY/TRIGGERS_BASE_URL/TRIGGERS_PROFILE > profile in the config file."
)

app = typer.Typer(
    name="triggers",
    help="Send, inspect, stream and forward Triggers events from your terminal.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triggers {SDK_VERSION}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Send, inspect, stream and forward Triggers events from your terminal."""


app.add_typer(events.app, name="events")
app.add_typer(inbox.app, name="inbox")
app.command("forward")(forward.forward)
app.command("listen")(listen.listen)
app.add_typer(deliveries.app, name="deliveries")
app.add_typer(dlq.app, name="dlq")
app.command("trigger")(trigger.trigger)
app.add_typer(schemas.app, name="schemas")
app.add_typer(subscriptions.app, name="subscriptions")
app.add_typer(config.app, name="config")
