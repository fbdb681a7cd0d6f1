"""`triggers dlq`: list dead letters, retry one or all of them, dismiss them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._constants import MAX_PAGE_LIMIT
from ..._exceptions import APIStatusError
from ..._types import NOT_GIVEN, NotGiven
from ..errors import describe_api_error
from ..exit_codes import ExitCode
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..output import Printer
from ..progress import bulk_progress
from ..render import DLQ_COLUMNS
from ..runtime import Invocation

app = typer.Typer(help="Dead letters: list, retry, dismiss.", no_args_is_help=True)

TypeOption = Annotated[
    str | None,
    typer.Option("--type", "-t", help="Event type glob, e.g. 'order.*'."),
]
OriginOption = Annotated[
    str | None,
    typer.Option("--origin", help="inbox or delivery."),
]
ReasonOption = Annotated[
    str | None,
    typer.Option("--reason", help="max_deliveries_exceeded, retries_exhausted or endpoint_gone."),
]
SubscriptionOption = Annotated[
    str | None,
    typer.Option("--subscription", help="Only dead letters of this subscription."),
]


def _given(value: Any) -> Any | NotGiven:
    return NOT_GIVEN if value is None else value


@app.command("list")
def list_dlq(
    ctx: typer.Context,
    event_type: TypeOption = None,
    origin: OriginOption = None,
    reason: ReasonOption = None,
    subscription: SubscriptionOption = None,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List dead letters, newest first."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        await print_list(
            inv.printer,
            lambda size, after: client.dlq.list(
                event_type=_given(event_type),
                origin=_given(origin),
                reason=_given(reason),
                subscription_id=_given(subscription),
                limit=size,
                cursor=after,
            ),
            window=window,
            columns=DLQ_COLUMNS,
            empty="The dead-letter queue is empty.",
        )

    inv.run(work)


@app.command("retry")
def retry(
    ctx: typer.Context,
    entry_id: Annotated[
        str | None,
        typer.Argument(help="The dead letter (dlq_…); omit with --all.", show_default=False),
    ] = None,
    retry_all: Annotated[
        bool, typer.Option("--all", help="Retry every dead letter matching the filters.")
    ] = False,
    event_type: TypeOption = None,
    origin: OriginOption = None,
    reason: ReasonOption = None,
    subscription: SubscriptionOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Put dead letters back in play (inbox entries return to the inbox; deliveries are re-sent).

    With --all, the dead letters matching the filters when the command starts are retried one by one
    behind a progress bar; the summary names any that could not be (exit 4).
    """
    filters = (event_type, origin, reason, subscription)
    if (entry_id is None) == (not retry_all):
        raise typer.BadParameter("pass a dead-letter id, or --all (optionally with filters)", ctx)
    if entry_id is not None and any(value is not None for value in filters):
        raise typer.BadParameter("--type/--origin/--reason/--subscription apply to --all only", ctx)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> ExitCode:
        if entry_id is not None:
            result = await client.dlq.retry(entry_id)
            inv.printer.result(
                result, Text.assemble("Retried ", (entry_id, "cyan"), f" (event {result.event_id})")
            )
            return ExitCode.OK
        return await _retry_matching(
            inv.printer,
            client,
            event_type=_given(event_type),
            origin=_given(origin),
            reason=_given(reason),
            subscription_id=_given(subscription),
        )

    inv.run(work)


async def _retry_matching(
    printer: Printer,
    client: TriggersClient,
    *,
    event_type: str | NotGiven,
    origin: str | NotGiven,
    reason: str | NotGiven,
    subscription_id: str | NotGiven,
) -> ExitCode:
    retried = 0
    refused: list[tuple[str, str]] = []
    with bulk_progress(printer) as progress:
        task = progress.add_task("Finding dead letters", total=None)
        entry_ids: list[str] = []
        async for page in client.dlq.list(
            event_type=event_type,
            origin=origin,
            reason=reason,
            subscription_id=subscription_id,
            limit=MAX_PAGE_LIMIT,
        ).pages():
            entry_ids.extend(entry.id for entry in page.data)
            progress.update(task, completed=len(entry_ids))
        progress.update(task, description="Retrying", completed=0, total=len(entry_ids))
        for entry_id in entry_ids:
            try:
                await client.dlq.retry(entry_id)
            except APIStatusError as error:  # refused (subscription gone or disabled), or already gone
                refused.append((entry_id, describe_api_error(error)))
            else:
                retried += 1
            progress.advance(task)
    summary = {
        "retried": retried,
        "matched": len(entry_ids),
        "refused": [{"entry_id": entry_id, "error": message} for entry_id, message in refused],
    }
    noun = "dead letter" if len(entry_ids) == 1 else "dead letters"
    sentence = f"Retried {retried} of {len(entry_ids)} {noun}."
    if refused:
        sentence += f" {len(refused)} could not be retried:"
    printer.result(summary, sentence)
    for entry_id, message in refused:
        printer.note(Text(f"  {entry_id}: {message}", style="red"))
    return ExitCode.INCOMPLETE if refused else ExitCode.OK


@app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    entry_ids: Annotated[list[str], typer.Argument(help="Dead letters (dlq_…) to delete for good.")],
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Delete dead letters without retrying them."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        for entry_id in entry_ids:
            await client.dlq.dismiss(entry_id)
            inv.printer.line(
                {"entry_id": entry_id, "dismissed": True}, Text.assemble("Dismissed ", (entry_id, "cyan"))
            )

    inv.run(work)
