"""`triggers trigger`: send a canned test event (a built-in fixture, or an example built from a schema)."""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

import typer
from rich.text import Text

from ..._client import TriggersClient
from ..errors import CliError
from ..examples import ExampleError, example_for
from ..exit_codes import ExitCode
from ..fixtures import FIXTURES
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..output import Column
from ..runtime import Invocation, fail

_FIXTURE_COLUMNS: list[Column[dict[str, str]]] = [
    Column("FIXTURE", lambda f: f["fixture"], no_wrap=True),
    Column("DESCRIPTION", lambda f: f["description"]),
]


def trigger(
    ctx: typer.Context,
    fixture: Annotated[
        str | None,
        typer.Argument(help="A built-in fixture (see --list), e.g. order.created.", show_default=False),
    ] = None,
    list_fixtures: Annotated[bool, typer.Option("--list", help="List the built-in fixtures.")] = False,
    from_schema: Annotated[
        str | None,
        typer.Option(
            "--from-schema",
            help="Send an example built from this event type's latest registered schema.",
            show_default=False,
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            help="PATH=VALUE into the data (dotted path; VALUE is JSON, else a string). Repeatable.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Producer name (default: the profile's source, else triggers-cli)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the event instead of sending it.")
    ] = False,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Send a test event: `triggers trigger order.created`, or `--from-schema TYPE`; prints its id."""
    if sum((fixture is not None, from_schema is not None, list_fixtures)) != 1:
        raise typer.BadParameter("pass a fixture name, --from-schema TYPE, or --list", ctx)
    inv = Invocation.create(
        ctx, profile=profile, output=output, api_key=api_key, base_url=base_url, source=source
    )
    printer = inv.printer
    if list_fixtures:
        rows = [{"fixture": name, "description": f.description} for name, f in FIXTURES.items()]
        printer.records(rows, _FIXTURE_COLUMNS, empty="")
        return
    try:
        patches = [_override(text) for text in overrides or []]
    except CliError as error:
        raise fail(error.message, error.code) from None

    def event_body(event_type: str, data: dict[str, Any], subject: str | None) -> dict[str, Any]:
        for path, value in patches:
            _set_path(data, path, value)
        body: dict[str, Any] = {"type": event_type, "source": inv.settings.source, "data": data}
        if subject is not None:
            body["subject"] = subject
        return body

    async def send(client: TriggersClient, body: dict[str, Any], origin: str) -> None:
        if dry_run:
            printer.record(body)
            return
        event = await client.events.create(**body)
        printer.result(
            event,
            Text.assemble("Triggered ", (event.type, "bold"), f" ({origin}): ", (event.id, "bold cyan")),
        )

    if fixture is not None:
        found = FIXTURES.get(fixture)
        if found is None:
            raise fail(f"no fixture {fixture!r}; `triggers trigger --list` shows them", ExitCode.USAGE)
        data = found.data(inv.runtime.now())
        body = event_body(found.type, data, found.subject(data))
        if dry_run:
            printer.record(body)
            return
        inv.run(lambda client: send(client, body, "fixture"))
        return
    assert from_schema is not None
    event_type = from_schema

    async def from_registry(client: TriggersClient) -> None:
        version = await client.schemas.get_version(event_type, "latest")
        try:
            example = example_for(version.json_schema, now=inv.runtime.now())
        except ExampleError as error:
            raise CliError(
                f"cannot build an example of {event_type} (schema version {version.version}) at {error}"
            ) from None
        if not isinstance(example, dict):
            raise CliError(
                f"the schema of {event_type} does not describe an object; events carry JSON objects"
            )
        body = event_body(event_type, cast("dict[str, Any]", example), None)
        await send(client, body, f"example of schema version {version.version}")

    inv.run(from_registry)


def _override(text: str) -> tuple[list[str], Any]:
    path, sep, raw = text.partition("=")
    if not sep or not path or any(not part for part in path.split(".")):
        raise CliError(f"--override must look like PATH=VALUE (e.g. order.total=5), got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return path.split("."), value


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    target = data
    for key in path[:-1]:
        nested = target.get(key)
        if not isinstance(nested, dict):
            nested = {}
            target[key] = nested
        target = cast("dict[str, Any]", nested)
    target[path[-1]] = value
