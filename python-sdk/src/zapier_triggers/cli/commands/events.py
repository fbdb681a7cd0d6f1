"""`triggers events`: send (one, or an NDJSON file in batches), list, get, stream, replay."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._exceptions import APIError
from ..._types import NOT_GIVEN, NotGiven
from ..errors import CliError
from ..exit_codes import ExitCode
from ..inputs import EventLine, chunks, parse_json_text, parse_pairs, read_event_lines
from ..interrupts import graceful_stop
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..output import Column
from ..progress import bulk_progress
from ..render import EVENT_COLUMNS, event_line
from ..runtime import Invocation
from ..times import parse_since

if TYPE_CHECKING:  # models are only annotations here; importing them costs startup time
    from ...types import BatchItemResult

app = typer.Typer(help="Send, list, inspect, stream and replay events.", no_args_is_help=True)

MAX_BATCH = 1000
TypesOption = Annotated[
    list[str] | None,
    typer.Option("--type", "-t", help="Event type glob, e.g. 'order.*' (repeatable).", show_default=False),
]


def _given(value: Any) -> Any | NotGiven:
    return NOT_GIVEN if value is None else value


@app.command("send")
def send(
    ctx: typer.Context,
    event_type: Annotated[
        str | None, typer.Option("--type", "-t", help="Event type, e.g. order.created.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", "-d", help="JSON payload, or @file.json (@- for stdin)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Producer name (default: the profile's source, else triggers-cli)."),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="What the event is about.")] = None,
    external_id: Annotated[
        str | None,
        typer.Option("--id", help="Your own event id (deduplicated per source)."),
    ] = None,
    correlation_id: Annotated[str | None, typer.Option("--correlation-id")] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option("--metadata", "-m", help="KEY=VALUE (repeatable)."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Reuse to make a retried send a no-op (default: random)."),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", "-f", help="NDJSON file of events to send in batches (- for stdin)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=MAX_BATCH, help="Events per batch request with --file.")
    ] = 500,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Send one event, or every line of an NDJSON file (--file) in batches with a progress bar."""
    if (event_type is None) == (file is None):
        raise typer.BadParameter("pass either --type (one event) or --file (NDJSON), not both", ctx)
    if file is not None and any(
        value is not None for value in (data, subject, external_id, correlation_id, metadata)
    ):
        raise typer.BadParameter(
            "--data/--subject/--id/--correlation-id/--metadata apply to --type only", ctx
        )
    inv = Invocation.create(
        ctx, profile=profile, output=output, api_key=api_key, base_url=base_url, source=source
    )
    if file is not None:
        inv.run(lambda client: _send_file(inv, client, file, batch_size, idempotency_key))
        return
    assert event_type is not None

    async def work(client: TriggersClient) -> None:
        event = await client.events.create(
            type=event_type,
            source=inv.settings.source,
            data=NOT_GIVEN if data is None else parse_json_text(data, what="--data"),
            subject=_given(subject),
            id=_given(external_id),
            correlation_id=_given(correlation_id),
            metadata=parse_pairs(metadata, what="--metadata") if metadata else NOT_GIVEN,
            idempotency_key=idempotency_key,
        )
        inv.printer.result(event, Text.assemble("Event created: ", (event.id, "bold cyan")))

    inv.run(work)


async def _send_file(
    inv: Invocation, client: TriggersClient, path: str, batch_size: int, idempotency_key: str | None
) -> ExitCode:
    lines = read_event_lines(path, default_source=inv.settings.source)
    printer = inv.printer
    tally: Counter[str] = Counter()
    rejected: list[tuple[EventLine, BatchItemResult]] = []
    outcomes: list[dict[str, object]] = []
    sent = 0
    with bulk_progress(printer) as progress:
        task = progress.add_task("Sending", total=len(lines))
        for index, batch in enumerate(chunks(lines, batch_size)):
            try:
                result = await client.events.create_batch(
                    [line.body for line in batch],
                    idempotency_key=f"{idempotency_key}-{index}" if idempotency_key else None,
                )
            except APIError:
                if sent:
                    printer.note(
                        Text(
                            f"Stopped after {sent} of {len(lines)} events: lines {batch[0].line} onwards "
                            "were not sent.",
                            style="yellow",
                        )
                    )
                raise
            for item in result.results:
                line = batch[item.index]
                tally[str(item.status.value)] += 1
                if item.problem is not None:
                    rejected.append((line, item))
                outcomes.append(
                    {
                        "line": line.line,
                        "status": item.status,
                        "event_id": item.event.id if item.event else None,
                        "problem": item.problem,
                    }
                )
            sent += len(batch)
            progress.advance(task, len(batch))
    if not printer.human:
        printer.records(outcomes, [], empty="")
    summary = ", ".join(f"{count} {status}" for status, count in sorted(tally.items()))
    printer.note(f"Sent {len(lines)} events from {path}: {summary}.")
    for line, item in rejected:
        problem = item.problem
        detail = (problem.detail or problem.title) if problem is not None else "rejected"
        printer.note(Text(f"  line {line.line}: {detail}", style="red"))
    return ExitCode.INCOMPLETE if rejected else ExitCode.OK


@app.command("list")
def list_events(
    ctx: typer.Context,
    types: TypesOption = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this producer.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, leased, acknowledged or dead_lettered."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Created after: a duration back from now (10m, 2h, 7d) or ISO-8601."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Created before: a duration back from now or ISO-8601."),
    ] = None,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List events, newest first."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        now = inv.runtime.now()
        try:
            since_at = parse_since(since, now) if since else NOT_GIVEN
            until_at = parse_since(until, now) if until else NOT_GIVEN
        except ValueError as exc:
            raise CliError(f"--since/--until: {exc}") from None
        await print_list(
            inv.printer,
            lambda size, after: client.events.list(
                type=types or NOT_GIVEN,
                source=_given(source),
                status=_given(status),
                since=since_at,
                until=until_at,
                limit=size,
                cursor=after,
            ),
            window=window,
            columns=EVENT_COLUMNS,
            empty="No events.",
        )

    inv.run(work)


@app.command("get")
def get_event(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event id (evt_…).")],
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Show one event with its payload."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        inv.printer.record(await client.events.get(event_id))

    inv.run(work)


@app.command("stream")
def stream_events(
    ctx: typer.Context,
    types: TypesOption = None,
    filter_expression: Annotated[
        str | None,
        typer.Option("--filter", help="Server-side filter expression (see `filters`)."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        typer.Option("--last-event-id", help="Resume after this sequence (printed when a stream stops)."),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option("--count", min=1, help="Exit after this many events (default: run until Ctrl-C)."),
    ] = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Print events live as they arrive; reconnects and resumes by itself. Ctrl-C stops."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)
    printer = inv.printer

    async def work(client: TriggersClient) -> None:
        received = 0
        resume_from = last_event_id
        outcome = "Failed"
        try:
            async with graceful_stop() as stop:
                with stop.scope:
                    stream = client.events.stream(
                        types=types or NOT_GIVEN,
                        filter=_given(filter_expression),
                        last_event_id=_given(last_event_id),
                        on_reset=lambda reset: printer.note(
                            Text(
                                f"Stream reset ({reset.reason}): events before sequence "
                                f"{reset.oldest_sequence} have expired; continuing from there.",
                                style="yellow",
                            )
                        ),
                    )
                    printer.note(
                        Text.assemble(
                            ("Streaming ", "dim"),
                            (", ".join(types) if types else "all events", "bold"),
                            (f" from {inv.settings.base_url}. Press Ctrl-C to stop.", "dim"),
                        )
                    )
                    async with stream:
                        async for event in stream:
                            printer.line(event, event_line(event))
                            received += 1
                            resume_from = stream.last_event_id or resume_from
                            if count is not None and received >= count:
                                break
            outcome = "Stopped" if stop.requested else "Done"
        finally:
            # Also on failure, when there is a cursor: it lets the user pick up where the stream broke off.
            resume = f"; resume with --last-event-id {resume_from}" if resume_from else ""
            if outcome != "Failed" or resume:
                printer.note(f"{outcome}: {received} event{'s' if received != 1 else ''} received{resume}.")

    inv.run(work, show_sdk_notices=True)


@app.command("replay")
def replay_event(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event to replay (evt_…).")],
    to_subscription: Annotated[
        str | None,
        typer.Option("--to-subscription", help="Deliver the copy to this subscription only."),
    ] = None,
    to_inbox: Annotated[
        bool, typer.Option("--to-inbox", help="Put the copy into the pull inbox only.")
    ] = False,
    patch: Annotated[
        str | None,
        typer.Option("--patch", help="JSON merge patch for the copy's data, or @file.json."),
    ] = None,
    time_override: Annotated[
        str | None,
        typer.Option("--time", help="ISO-8601 `time` of the copy (default: the original's)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show where it would go; change nothing.")
    ] = False,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Replay an event: to one subscription, the inbox, or (default) everywhere it would go now."""
    if to_subscription is not None and to_inbox:
        raise typer.BadParameter("--to-subscription and --to-inbox are exclusive", ctx)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)
    target: dict[str, str] = (
        {"kind": "subscription", "subscription_id": to_subscription}
        if to_subscription is not None
        else {"kind": "inbox"}
        if to_inbox
        else {"kind": "all"}
    )

    async def work(client: TriggersClient) -> None:
        data_patch: dict[str, Any] | NotGiven = NOT_GIVEN
        if patch is not None:
            parsed = parse_json_text(patch, what="--patch")
            if not isinstance(parsed, dict):
                raise CliError("--patch must be a JSON object (a JSON merge patch)")
            data_patch = cast("dict[str, Any]", parsed)
        result = await client.events.replay(
            event_id,
            target=target,
            data_patch=data_patch,
            time_override=_given(time_override),
            dry_run=dry_run,
        )
        printer = inv.printer
        if not printer.human:
            printer.record(result)
            return
        if result.event is not None:
            printer.console.print(
                Text.assemble("Replayed ", event_id, " as ", (result.event.id, "bold cyan"))
            )
        else:
            printer.console.print(Text(f"Dry run of {event_id}: nothing was changed.", style="yellow"))
        printer.records(
            result.outcomes,
            [
                Column("TARGET", lambda o: o.subscription_id or o.target, no_wrap=True),
                Column("DECISION", lambda o: o.decision),
                Column("DELIVERY", lambda o: o.delivery_id),
            ],
            empty="No targets matched.",
        )

    inv.run(work)
