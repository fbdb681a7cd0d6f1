"""Reading user input: JSON flags (`--data '{…}'` or `@file.json`), schema files, NDJSON event files.

Everything is validated before the first request, so a malformed line 900 never leaves 899 events
half-sent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from .errors import CliError

__all__ = ["EventLine", "chunks", "parse_json_text", "parse_pairs", "read_event_lines", "read_json_file"]

T = TypeVar("T")


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"Cannot read {path}: {exc}") from exc


def parse_json_text(text: str, *, what: str) -> Any:
    """Inline JSON, or ``@path`` to read it from a file (``@-`` for stdin)."""
    if text.startswith("@"):
        return read_json_file(text[1:], what=what)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}") from exc


def read_json_file(path: str, *, what: str) -> Any:
    try:
        return json.loads(_read_text(path))
    except ValueError as exc:
        raise CliError(f"{what} ({path}) is not valid JSON: {exc}") from exc


def parse_pairs(pairs: Sequence[str], *, what: str) -> dict[str, str]:
    """``KEY=VALUE`` flags into a dict."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"{what} must look like KEY=VALUE, got {pair!r}")
        result[key] = value
    return result


@dataclass(frozen=True)
class EventLine:
    """One event of an NDJSON file, with its line number for error messages."""

    line: int
    body: dict[str, Any]


def read_event_lines(path: str, *, default_source: str) -> list[EventLine]:
    """Every non-blank line must be a JSON object with a string ``type``; ``source`` defaults."""
    events: list[EventLine] = []
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise CliError(f"{path}:{number}: not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise CliError(f'{path}:{number}: expected a JSON object with a "type" string')
        event = cast("dict[str, Any]", body)
        if not isinstance(event.get("type"), str):
            raise CliError(f'{path}:{number}: expected a JSON object with a "type" string')
        event.setdefault("source", default_source)
        events.append(EventLine(number, event))
    if not events:
        raise CliError(f"{path}: no events (expected one JSON object per line)")
    return events


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
