"""Print a paginated list up to ``--limit`` items: streamed line by line for NDJSON, a table otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from typing import TypeVar

from .._constants import MAX_PAGE_LIMIT
from .output import Column, OutputFormat, Printer

__all__ = ["page_size", "print_list"]

T = TypeVar("T")


def page_size(limit: int) -> int:
    """Ask for no more per page than will be shown (and no more than the API allows)."""
    return min(limit, MAX_PAGE_LIMIT)


async def print_list(
    printer: Printer, items: AsyncIterable[T], *, limit: int, columns: Sequence[Column[T]], empty: str
) -> None:
    """NDJSON lines appear as pages arrive (so `| head` and `| jq` start at once); tables need them all."""
    collected: list[T] = []
    shown = 0
    async for item in items:
        if printer.format is OutputFormat.ndjson:
            printer.records([item], columns, empty=empty)
        else:
            collected.append(item)
        shown += 1
        if shown >= limit:
            break
    if printer.format is not OutputFormat.ndjson:
        printer.records(collected, columns, empty=empty)
