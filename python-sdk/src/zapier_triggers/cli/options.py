"""Options every API command accepts (`--profile`, `--output`, `--api-key`, `--base-url`)."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import OutputFormat

__all__ = ["ApiKeyOption", "BaseUrlOption", "OutputOption", "ProfileOption"]

_GLOBAL = "Connection and output"

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Config profile (default: $TRIGGERS_PROFILE, then the file's default_profile).",
        show_default=False,
        rich_help_panel=_GLOBAL,
    ),
]
OutputOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        help="table, json or ndjson (default: table on a terminal, ndjson when piped).",
        case_sensitive=False,
        show_default=False,
        rich_help_panel=_GLOBAL,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key; overrides $TRIGGERS_API_KEY and the profile. Prefer the env var or a profile.",
        show_default=False,
        rich_help_panel=_GLOBAL,
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="API base URL; overrides $TRIGGERS_BASE_URL and the profile.",
        show_default=False,
        rich_help_panel=_GLOBAL,
    ),
]
