"""`triggers subscriptions`: create, list and delete webhook subscriptions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._types import NOT_GIVEN
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..render import SUBSCRIPTION_COLUMNS
from ..runtime import Invocation

app = typer.Typer(help="Webhook subscriptions: create, list, delete.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Endpoint receiving signed POSTs.")],
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Event type glob (repeatable; default: every type)."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="whsec_… signing secret (default: generated and shown once)."),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled.")] = False,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Create a subscription; its signing secret is shown once, keep it for verification."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        subscription = await client.subscriptions.create(
            url=url,
            event_types=types or NOT_GIVEN,
            description=NOT_GIVEN if description is None else description,
            secret=NOT_GIVEN if secret is None else secret,
            enabled=not disabled,
        )
        message = Text.assemble("Subscription created: ", (subscription.id, "bold cyan"))
        if subscription.secret:
            message.append(f"\nSigning secret (shown once): {subscription.secret}")
        inv.printer.result(subscription, message)

    inv.run(work)


@app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List subscriptions."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        await print_list(
            inv.printer,
            lambda size, after: client.subscriptions.list(limit=size, cursor=after),
            window=window,
            columns=SUBSCRIPTION_COLUMNS,
            empty="No subscriptions.",
        )

    inv.run(work)


@app.command("delete")
def delete(
    ctx: typer.Context,
    subscription_ids: Annotated[list[str], typer.Argument(help="Subscriptions (sub_…) to delete.")],
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Delete subscriptions; their pending deliveries are discarded."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        for subscription_id in subscription_ids:
            await client.subscriptions.delete(subscription_id)
            inv.printer.line(
                {"subscription_id": subscription_id, "deleted": True},
                Text.assemble("Deleted ", (subscription_id, "cyan")),
            )

    inv.run(work)
