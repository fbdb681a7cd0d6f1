"""Event-type globs: `*` matches any run of characters (within and across dot segments); nothing else is
special. Brackets, `?`, whitespace and control characters are rejected so a glob means one thing in SQL
(GLOB) and in Python alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

MAX_GLOB_LENGTH = 255
_FORBIDDEN = re.compile(r"[\[\]?\s\x00-\x1f\x7f]")


class InvalidGlob(ValueError):
    """A glob outside the grammar; a query parameter's is a 400 `malformed-request` (`http/problem_handlers`)."""


def validate_globs(globs: Iterable[str], *, field: str) -> list[str]:
    """Return the globs, or raise `InvalidGlob` naming the bad one."""
    checked: list[str] = []
    for glob in globs:
        if not glob or len(glob) > MAX_GLOB_LENGTH or _FORBIDDEN.search(glob):
            raise InvalidGlob(
                f"Invalid type glob {glob!r} in `{field}`: use 1-{MAX_GLOB_LENGTH} characters with `*` as the "
                "only wildcard (no brackets, `?` or whitespace)."
            )
        checked.append(glob)
    return checked


@lru_cache(maxsize=1024)
def _compiled(glob: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", glob)) + r"\Z", re.S
    )


def matches_any(value: str, globs: Sequence[str]) -> bool:
    """True when `globs` is empty or one of them matches `value` entirely."""
    return not globs or any(_compiled(glob).match(value) for glob in globs)


def sql_clause(column: str, globs: Sequence[str]) -> tuple[str, list[str]]:
    """`(column GLOB ? OR …)` for validated globs (which contain no GLOB metacharacter but `*`)."""
    return "(" + " OR ".join(f"{column} GLOB ?" for _ in globs) + ")", list(globs)
