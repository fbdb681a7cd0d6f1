"""`triggers config`: named profiles (environments) in the TOML config file."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Annotated

import typer
from rich.text import Text

from ..config import ConfigFile, Profile, config_path, load_config, mask_secret, resolve_settings, save_config
from ..errors import CliError
from ..exit_codes import ExitCode
from ..options import OutputOption, ProfileOption
from ..output import Column, Printer, resolve_format
from ..runtime import fail, runtime_of

app = typer.Typer(
    help="Profiles in the config file (path: $TRIGGERS_CONFIG or the user config dir).", no_args_is_help=True
)


def _load() -> ConfigFile:
    try:
        return load_config(config_path())
    except CliError as error:
        raise fail(error.message, error.code) from None


def _save(config: ConfigFile) -> None:
    try:
        save_config(config)
    except OSError as exc:
        raise fail(f"Cannot write {config.path}: {exc}", ExitCode.USAGE) from None


@app.command("set-profile")
def set_profile(
    name: Annotated[str, typer.Argument(help="Profile name, e.g. local, staging, prod.")],
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key for this profile.")] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="API base URL, e.g. http://127.0.0.1:8080/v1."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Default `source` for `events send`."),
    ] = None,
    make_default: Annotated[
        bool | None,
        typer.Option(
            "--default/--no-default", help="Use this profile when none is named (default: if first)."
        ),
    ] = None,
) -> None:
    """Create or update a profile; fields not given keep their value."""
    config = _load()
    current = config.profiles.get(name, Profile())
    updated = replace(
        current,
        api_key=api_key if api_key is not None else current.api_key,
        base_url=base_url if base_url is not None else current.base_url,
        source=source if source is not None else current.source,
    )
    config.profiles[name] = updated
    if make_default or (make_default is None and config.default_profile is None):
        config.default_profile = name
    elif make_default is False and config.default_profile == name:
        config.default_profile = None
    _save(config)
    marker = " (default)" if config.default_profile == name else ""
    typer.echo(
        f"Saved profile {name}{marker} to {config.path}: base URL {updated.base_url or '(default)'}, "
        f"API key {mask_secret(updated.api_key)}",
        err=True,
    )


@app.command("delete-profile")
def delete_profile(
    name: Annotated[str, typer.Argument(help="The profile to remove.")],
) -> None:
    """Remove a profile (and its API key) from the config file."""
    config = _load()
    if name not in config.profiles:
        raise fail(f"Profile {name!r} is not in {config.path}.", ExitCode.USAGE)
    del config.profiles[name]
    if config.default_profile == name:
        config.default_profile = None
    _save(config)
    typer.echo(f"Deleted profile {name} from {config.path}", err=True)


@app.command("show")
def show(
    ctx: typer.Context,
    profile: ProfileOption = None,
    output: OutputOption = None,
) -> None:
    """Show the profiles and the settings a command would use now (API keys masked)."""
    config = _load()
    runtime = runtime_of(ctx)
    printer = Printer(resolve_format(output, sys.stdout), now=runtime.now)
    try:
        effective = resolve_settings(config, profile=profile, api_key=None, base_url=None)
    except CliError as error:
        raise fail(error.message, error.code) from None
    rows = [
        {
            "name": name,
            "default": name == config.default_profile,
            "base_url": entry.base_url,
            "api_key": mask_secret(entry.api_key) if entry.api_key else None,
            "source": entry.source,
        }
        for name, entry in sorted(config.profiles.items())
    ]
    in_use = {
        "profile": effective.profile,
        "base_url": effective.base_url,
        "api_key": mask_secret(effective.api_key) if effective.api_key else None,
        "source": effective.source,
        "origins": dict(effective.origins),
    }
    if not printer.human:
        printer.record({"config_file": str(config.path), "profiles": rows, "effective": in_use})
        return
    printer.console.print(Text(f"Config file: {config.path}", style="dim"))
    printer.records(
        rows,
        [
            Column("PROFILE", lambda r: f"{r['name']}{' *' if r['default'] else ''}", no_wrap=True),
            Column("BASE URL", lambda r: r["base_url"]),
            Column("API KEY", lambda r: r["api_key"]),
            Column("SOURCE", lambda r: r["source"]),
        ],
        empty="No profiles yet: triggers config set-profile NAME --api-key KEY --base-url URL",
    )
    origins = effective.origins
    printer.console.print(
        Text.assemble(
            ("\nIn use: ", "bold"),
            f"profile {effective.profile or '(none)'}; ",
            f"base URL {effective.base_url} [{origins['base_url']}]; ",
            f"API key {in_use['api_key'] or '(none)'} [{origins['api_key']}]; ",
            f"source {effective.source} [{origins['source']}]",
        )
    )
