"""The `triggers` command line, built on the async SDK (install with ``zapier-triggers[cli]``).

``main`` is the console-script entry point. It imports Typer and Rich only when called, so a plain
SDK install still has the entry point and tells the user which extra to install.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_CLI_DEPENDENCIES = frozenset({"typer", "rich", "platformdirs", "tomli_w", "tomli"})


def main() -> None:
    try:
        from .app import app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _CLI_DEPENDENCIES:
            raise
        sys.stderr.write(
            f"triggers: the CLI needs extra packages ({exc.name} is missing): "
            'pip install "zapier-triggers[cli]"\n'
        )
        raise SystemExit(2) from None
    app(prog_name="triggers")
