"""`triggers schemas`: register a JSON Schema for an event type, check compatibility, list subjects, write the
field-level evolution docs."""

from __future__ import annotations

from typing import Annotated, cast

import anyio
import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._types import NOT_GIVEN
from ..errors import CliError
from ..evolution import Version, markdown
from ..exit_codes import ExitCode
from ..inputs import read_json_file
from ..listing import AllOption, CursorOption, LimitOption, ListWindow, print_list
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..output import Column
from ..render import SCHEMA_COLUMNS
from ..runtime import Invocation

app = typer.Typer(help="Schema registry: register, check, list.", no_args_is_help=True)

TypeArgument = Annotated[str, typer.Argument(help="Event type, e.g. order.created.")]
FileArgument = Annotated[str, typer.Argument(help="JSON Schema file (draft 2020-12), or - for stdin.")]


def _load_schema(path: str) -> dict[str, object]:
    schema = read_json_file(path, what="schema")
    if not isinstance(schema, dict):
        raise CliError(f"schema ({path}) must be a JSON object")
    return cast("dict[str, object]", schema)


@app.command("register")
def register(
    ctx: typer.Context,
    event_type: TypeArgument,
    file: FileArgument,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Register a new schema version for an event type (an identical schema returns the existing one)."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        version = await client.schemas.register(event_type, _load_schema(file))
        inv.printer.result(
            version,
            Text.assemble(
                "Registered ",
                (version.event_type, "bold"),
                f" version {version.version} ({version.fingerprint})",
            ),
        )

    inv.run(work)


@app.command("check")
def check(
    ctx: typer.Context,
    event_type: TypeArgument,
    file: FileArgument,
    mode: Annotated[
        str | None,
        typer.Option("--mode", help="Compatibility mode to check with (default: the type's own)."),
    ] = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Would this schema be accepted? Exit 0 if compatible, 4 if not (with the reasons)."""
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> ExitCode:
        result = await client.schemas.check_compatibility(
            event_type, json_schema=_load_schema(file), mode=NOT_GIVEN if mode is None else mode
        )
        printer = inv.printer
        mode_name = str(result.mode.value)
        if not printer.human:
            printer.record(result)
        elif result.compatible:
            printer.console.print(Text(f"Compatible with {event_type} ({mode_name}).", style="green"))
        else:
            printer.console.print(Text(f"Incompatible with {event_type} ({mode_name}):", style="red"))
            printer.records(
                result.incompatibilities,
                [
                    Column("PATH", lambda i: i.path, no_wrap=True),
                    Column("KIND", lambda i: i.kind),
                    Column("VERSION", lambda i: i.against_version),
                    Column("DETAIL", lambda i: i.detail),
                ],
                empty="",
            )
        return ExitCode.OK if result.compatible else ExitCode.INCOMPLETE

    inv.run(work)


@app.command("list")
def list_schemas(
    ctx: typer.Context,
    limit: LimitOption = None,
    every: AllOption = False,
    cursor: CursorOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List event types that have schemas."""
    window = ListWindow.of(ctx, limit, every, cursor)
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        await print_list(
            inv.printer,
            lambda size, after: client.schemas.list(limit=size, cursor=after),
            window=window,
            columns=SCHEMA_COLUMNS,
            empty="No schemas registered.",
        )

    inv.run(work)


@app.command("docs")
def evolution_docs(
    ctx: typer.Context,
    event_type: TypeArgument,
    out: Annotated[
        str | None, typer.Option("--out", help="Write the Markdown to this file (default: standard output).")
    ] = None,
    profile: ProfileOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Field-level evolution docs of an event type's schema versions, as Markdown (for a repository)."""
    inv = Invocation.create(ctx, profile=profile, output=None, api_key=api_key, base_url=base_url)

    async def work(client: TriggersClient) -> None:
        versions = [
            Version(item.version, item.created_at.isoformat(), item.json_schema)
            async for item in client.schemas.list_versions(event_type)
        ]
        page = markdown(event_type, versions)
        if out is None:
            typer.echo(page, nl=False)
        else:
            await anyio.Path(out).write_text(page, encoding="utf-8")
            typer.echo(f"Wrote {out} ({len(versions)} versions of {event_type})", err=True)

    inv.run(work)
