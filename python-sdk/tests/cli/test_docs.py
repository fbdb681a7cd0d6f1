"""Every `triggers …` command in docs/cli.md and the README walkthrough parses (docs cannot drift)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .conftest import Cli

SDK_ROOT = Path(__file__).resolve().parents[2]
DOCS = (SDK_ROOT / "docs" / "cli.md", SDK_ROOT / "README.md")
_COMMAND = re.compile(r"^(?:\$ )?(triggers (?:.+))$", re.MULTILINE)


def documented_commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for doc in DOCS:
        for match in _COMMAND.finditer(doc.read_text(encoding="utf-8")):
            line = match.group(1).split(" | ")[0].split("  #")[0]
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_docs_show_the_seed_examples() -> None:
    shown = [" ".join(args[:2]) for args in documented_commands()]
    for example in ("events send", "inbox list", "events stream", "forward http://localhost:3000/webhook"):
        assert example in shown


@pytest.mark.parametrize("args", documented_commands(), ids=" ".join)
def test_documented_command_parses(cli: Cli, args: list[str]) -> None:
    result = cli(*args, env={"TRIGGERS_API_KEY": None})
    # Parsing succeeded when the command got as far as needing an API key (or needed none at all).
    assert result.exit_code == 0 or result.stderr.startswith("Error: No API key"), result.stderr
