"""Building SQL WHERE clauses for the list queries' optional exact-match filters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def add_equals(clauses: list[str], values: list[Any], filters: Iterable[tuple[str, object | None]]) -> None:
    """Append `column = ?` for every (column, value) whose value is given; None means "no filter"."""
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = ?")
            values.append(value)
