"""Keyset pages of newest-first lists: a page of records and the cursor of the next one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def before_seq(kind: str, cursor: str | None) -> int | None:
    """The sequence a `kind` cursor continues before (None for the first page); Malformed for a bad cursor."""
    position = decode_cursor(kind, cursor)
    return int_field(position, "s") if position is not None else None


def page_of(kind: str, records: Sequence[T], limit: int, seq: Callable[[T], int]) -> Page[T]:
    """`records` read with `limit + 1`: the first `limit`, and a cursor when there were more."""
    items = list(records[:limit])
    next_cursor = encode_cursor(kind, {"s": seq(items[-1])}) if len(records) > limit else None
    return Page(items, next_cursor)
