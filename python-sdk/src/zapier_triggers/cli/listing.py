"""Paginated lists: `--limit`, `--all` and `--cursor` for every list command, and how pages are printed.

Pages are requested so that the last one ends exactly at ``--limit``; the server's ``next_cursor``
after it then resumes right after the last row shown, which is what the "more results" hint offers.
NDJSON lines are written as each page arrives (so `| head` and `| jq` start at once, and `--all`
over a large list never holds it in memory); tables and JSON arrays need every row first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

import typer

from .._constants import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from .._pagination import Paginator
from .._types import NOT_GIVEN, NotGiven
from .output import Column, OutputFormat, Printer

__all__ = [
    "AllOption",
    "CursorOption",
    "LimitOption",
    "ListWindow",
    "cursor_arg",
    "print_list",
]

T = TypeVar("T")

LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        max=100_000,
        help=f"Most rows to show (default {DEFAULT_PAGE_LIMIT}; pages are fetched as needed).",
        show_default=False,
    ),
]
AllOption = Annotated[
    bool,
    typer.Option(
        "--all", help="Walk every page (NDJSON when piped: one line per row, printed as pages arrive)."
    ),
]
CursorOption = Annotated[
    str | None,
    typer.Option(
        "--cursor", help="Start after this cursor (printed by the 'more results' hint).", show_default=False
    ),
]


Fetch = Callable[[int, "str | NotGiven"], Paginator[T]]
"""``(limit, cursor) -> paginator``: one of the SDK's list calls with the filters bound."""


@dataclass(frozen=True)
class ListWindow:
    """Which rows a list command shows: up to ``limit`` (or ``every`` page) from ``cursor`` on."""

    limit: int = DEFAULT_PAGE_LIMIT
    every: bool = False
    cursor: str | None = None

    @classmethod
    def of(cls, ctx: typer.Context, limit: int | None, every: bool, cursor: str | None) -> ListWindow:
        if every and limit is not None:
            raise typer.BadParameter("--all and --limit are exclusive", ctx)
        return cls(DEFAULT_PAGE_LIMIT if limit is None else limit, every, cursor)


def cursor_arg(cursor: str | None) -> str | NotGiven:
    return NOT_GIVEN if cursor is None else cursor


def more_hint(cursor: str) -> str:
    return f"more results: --all or --cursor {cursor}"


async def print_list(
    printer: Printer, fetch: Fetch[T], *, window: ListWindow, columns: Sequence[Column[T]], empty: str
) -> None:
    """Print the window's rows; when rows remain after it, say how to get them (on a terminal)."""
    collected: list[T] = []
    remaining: int | None = None if window.every else window.limit
    cursor: str | None = window.cursor
    while True:
        size = MAX_PAGE_LIMIT if remaining is None else min(remaining, MAX_PAGE_LIMIT)
        page = await fetch(size, cursor_arg(cursor)).first_page()
        rows = page.data[:remaining] if remaining is not None else page.data
        if printer.format is OutputFormat.ndjson:
            printer.records(rows, columns, empty=empty)
        else:
            collected.extend(rows)
        cursor = page.next_cursor if page.data and len(rows) == len(page.data) else None
        if remaining is not None:
            remaining -= len(rows)
        if cursor is None or (remaining is not None and remaining <= 0):
            break
    if printer.format is not OutputFormat.ndjson:
        printer.records(collected, columns, empty=empty)
    if cursor is not None and (printer.human or printer.err_console.is_terminal):
        printer.note(more_hint(cursor))
