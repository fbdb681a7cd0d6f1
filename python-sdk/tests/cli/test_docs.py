"""The docs cannot drift: every `triggers …` command shown parses, every command is documented, and
the root README's "Start here" links (and every relative link in these docs) resolve."""

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


REPO_ROOT = SDK_ROOT.parent
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(markdown: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in markdown.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def _broken_links(doc: Path) -> list[str]:
    broken: list[str] = []
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):  # http(s), mailto: not checked offline
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.exists() or (
            fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved)
        ):
            broken.append(target)
    return broken


def test_the_root_readme_starts_with_the_cli_doc_and_each_quickstart() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.split("## Start here", 1)[1].split("\n## ", 1)[0]
    targets = set(_LINK.findall(start))
    for expected in (
        "python-sdk/docs/cli.md",
        "python-sdk/README.md",
        "python-sdk/examples/quickstart.py",
        "sdks/typescript/README.md",
        "sdks/go/README.md",
        "sdks/go/examples/quickstart/main.go",
    ):
        assert expected in targets, expected


@pytest.mark.parametrize(
    "doc",
    [REPO_ROOT / "README.md", SDK_ROOT / "README.md", SDK_ROOT / "docs" / "cli.md"],
    ids=lambda p: p.name,
)
def test_every_relative_link_resolves(doc: Path) -> None:
    assert _broken_links(doc) == []


def test_the_cli_doc_names_every_command() -> None:
    import typer.main

    from zapier_triggers.cli.app import app

    text = (SDK_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    names: list[str] = []
    for name, command in getattr(group, "commands", {}).items():
        subcommands = getattr(command, "commands", None)
        names.extend(f"{name} {sub}" for sub in subcommands) if subcommands else names.append(name)
    missing = [name for name in names if f"`{name}" not in text]
    assert missing == []
