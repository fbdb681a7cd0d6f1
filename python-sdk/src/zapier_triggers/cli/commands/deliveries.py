"""`triggers deliveries`: webhook deliveries with every attempt's request and response; retry one now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..._client import TriggersClient
from ..._types import NOT_GIVEN, NotGiven
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..output import Column, Printer
from ..render import DELIVERY_COLUMNS
from ..runtime import Invocation

if TYPE_CHECKING:  # models are only annotations here; importing them costs startup time
    from ...types import Delivery, DeliveryAttempt

app = typer.Typer(help="Webhook deliveries: list, inspect every attempt, retry.", no_args_is_help=True)

DeliveryArgument = Annotated[str, typer.Argument(help="The delivery id (dlv_…).")]

_SUMMARY: list[Column[Delivery]] = [
    Column("id", lambda d: d.id),
    Column("event", lambda d: d.event_id),
    Column("subscription", lambda d: d.subscription_id),
    Column("status", lambda d: d.status),
    Column("attempts", lambda d: d.attempt_count),
    Column("next attempt", lambda d: d.next_attempt_at),
    Column("created", lambda d: d.created_at),
    Column("updated", lambda d: d.updated_at),
]


def _given(value: Any) -> Any | NotGiven:
    return NOT_GIVEN if value is None else value


@app.command("list")
def list_deliveries(
    ctx: typer.Context,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only this subscription.")
    ] = None,
    event: Annotated[str | None, typer.Option("--event", help="Only deliveries of this event.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, succeeded, failed, dead_lettered or discarded."),
    ] = None,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List webhook deliveries, newest first (`deliveries get` shows their attempts)."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        await print_list(
            inv.printer,
            lambda size, after: client.deliveries.list(
                subscription_id=_given(subscription),
                event_id=_given(event),
                status=_given(status),
                limit=size,
                cursor=after,
            ),
            window=window,
            columns=DELIVERY_COLUMNS,
            empty="No deliveries.",
        )

    inv.run(work)


@app.command("get")
def get_delivery(
    ctx: typer.Context,
    delivery_id: DeliveryArgument,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Show a delivery and every attempt: request and response headers and bodies, status, duration."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        delivery = await client.deliveries.get(delivery_id)
        if inv.printer.human:
            print_delivery(inv.printer, delivery)
        else:
            inv.printer.record(delivery)

    inv.run(work)


@app.command("retry")
def retry_delivery(
    ctx: typer.Context,
    delivery_id: DeliveryArgument,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Attempt a delivery again now (any state but succeeded); prints its new state."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        delivery = await client.deliveries.retry(delivery_id)
        message = Text.assemble(
            "Retry scheduled for ",
            (delivery.id, "cyan"),
            ": now ",
            (str(delivery.status.value), "bold"),
            f" after {delivery.attempt_count} attempt{'s' if delivery.attempt_count != 1 else ''}",
        )
        if delivery.next_attempt_at is not None:
            message.append(f", next attempt {inv.printer.cell(delivery.next_attempt_at)}")
        inv.printer.result(delivery, message)

    inv.run(work)


def print_delivery(printer: Printer, delivery: Delivery) -> None:
    """The summary, then one request/response table per attempt, oldest first."""
    printer.record(delivery, _SUMMARY)
    if not delivery.attempts:
        printer.console.print(Text("No attempts yet.", style="dim"))
    for attempt in delivery.attempts:
        printer.console.print()
        printer.console.print(_attempt_table(printer, attempt))


def _attempt_table(printer: Printer, attempt: DeliveryAttempt) -> Table:
    outcome = (
        Text(str(attempt.response_status), style="green" if attempt.succeeded else "red")
        if attempt.response_status is not None
        else Text(attempt.error or "no response", style="red")
    )
    title = Text.assemble(
        (f"Attempt {attempt.attempt_number}", "bold"),
        f" · {printer.cell(attempt.started_at)} · {attempt.duration_ms} ms · ",
        outcome,
    )
    table = Table(title=title, title_justify="left", show_lines=True, expand=True)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("REQUEST", ratio=1, overflow="fold")
    table.add_column("RESPONSE", ratio=1, overflow="fold")
    response_line = (
        Text(str(attempt.response_status)) if attempt.response_status is not None else Text("-", style="dim")
    )
    if attempt.error:
        response_line = Text.assemble(response_line, " ", (attempt.error, "red"))
    table.add_row("", Text(f"POST {attempt.request_url}"), response_line)
    table.add_row("headers", _headers(attempt.request_headers), _headers(attempt.response_headers))
    response_body = Text(attempt.response_body or "")
    if attempt.response_body_truncated:
        response_body.append(" … (truncated)", style="dim")
    table.add_row("body", Text(attempt.request_body), response_body)
    return table


def _headers(headers: Mapping[str, str]) -> Group | Text:
    if not headers:
        return Text("-", style="dim")
    return Group(*(Text.assemble((f"{name}: ", "dim"), value) for name, value in sorted(headers.items())))
