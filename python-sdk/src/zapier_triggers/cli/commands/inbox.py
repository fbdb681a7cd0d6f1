"""`triggers inbox`: list pending events, acknowledge them, or pull (lease, print, ack)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._exceptions import APIStatusError
from ..._types import NOT_GIVEN
from ..errors import describe_api_error
from ..exit_codes import ExitCode
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..render import INBOX_COLUMNS, event_line
from ..runtime import Invocation

app = typer.Typer(help="The pull inbox: list, acknowledge, pull.", no_args_is_help=True)

TypesOption = Annotated[
    list[str] | None,
    typer.Option("--type", "-t", help="Event type glob, e.g. 'order.*' (repeatable).", show_default=False),
]


@app.command("list")
def list_inbox(
    ctx: typer.Context,
    types: TypesOption = None,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List events waiting in the inbox (pending or leased), oldest first."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        await print_list(
            inv.printer,
            lambda size, after: client.inbox.list(type=types or NOT_GIVEN, limit=size, cursor=after),
            window=window,
            columns=INBOX_COLUMNS,
            empty="The inbox is empty.",
        )

    inv.run(work)


@app.command("ack")
def ack(
    ctx: typer.Context,
    event_ids: Annotated[list[str], typer.Argument(help="Event ids (evt_…) to acknowledge.")],
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Acknowledge events so they are never delivered again; continues past failures."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> ExitCode:
        failed = 0
        for event_id in event_ids:
            try:
                await client.inbox.acknowledge(event_id)
            except APIStatusError as error:
                failed += 1
                message = describe_api_error(error)
                inv.printer.note(Text(f"Error: {event_id}: {message}", style="red"))
                if not inv.printer.human:
                    inv.printer.line({"event_id": event_id, "acknowledged": False, "error": message}, Text())
                continue
            inv.printer.line(
                {"event_id": event_id, "acknowledged": True},
                Text.assemble("Acknowledged ", (event_id, "cyan")),
            )
        return ExitCode.API_ERROR if failed else ExitCode.OK

    inv.run(work)


@app.command("pull")
def pull(
    ctx: typer.Context,
    types: TypesOption = None,
    max_events: Annotated[int, typer.Option("--max", min=1, max=100, help="Most events to lease.")] = 10,
    visibility_timeout: Annotated[
        int, typer.Option("--visibility-timeout", min=1, max=3600, help="Lease length in seconds.")
    ] = 30,
    wait: Annotated[int, typer.Option("--wait", min=0, max=20, help="Long-poll seconds when empty.")] = 0,
    release: Annotated[
        bool,
        typer.Option("--nack", help="Release the events instead of acknowledging them (counts a delivery)."),
    ] = False,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Lease events, print them, then acknowledge them (or release them with --nack)."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)
    printer = inv.printer

    async def work(client: TriggersClient) -> None:
        lease = await client.inbox.lease(
            max_events=max_events, visibility_timeout=visibility_timeout, wait=wait, types=types or NOT_GIVEN
        )
        receipts = [message.receipt for message in lease.messages]
        printed = False
        try:
            for message in lease.messages:
                printer.line(
                    {"event": message.event, "delivery_count": message.delivery_count},
                    event_line(message.event).append(f"  (delivery {message.delivery_count})", style="dim"),
                )
            printed = True
        finally:
            if receipts:
                # Only what was shown is acknowledged; if printing failed, everything goes back.
                if release or not printed:
                    results = await client.inbox.nack(receipts=receipts)
                else:
                    results = await client.inbox.ack(receipts)
                for result in results.results:
                    if result.status != "ok":
                        printer.note(
                            Text(f"{result.receipt}: {result.status} {result.detail or ''}", style="yellow")
                        )
        verb = "Released" if release else "Acknowledged"
        if receipts:
            printer.note(f"{verb} {len(receipts)} event{'s' if len(receipts) != 1 else ''}.")
        else:
            printer.note("The inbox has nothing to lease.")

    inv.run(work)
