"""One printer for every command: Rich tables on a terminal, JSON or NDJSON for programs.

Table output is the default only when stdout is a terminal; piped output defaults to NDJSON so
`triggers events list | jq` works without flags. Tables show times relative ("2m ago"); JSON keeps
the API's ISO-8601 strings. Notes and progress go to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import IO, Any, Generic, TypeVar, cast

import pydantic
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .times import relative

__all__ = ["Column", "OutputFormat", "Printer", "resolve_format", "to_jsonable"]

T = TypeVar("T")
_PIPE_WIDTH = 200


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    ndjson = "ndjson"


def resolve_format(requested: OutputFormat | None, stdout: IO[str]) -> OutputFormat:
    """The flag when given, else a table on a terminal and NDJSON when piped."""
    if requested is not None:
        return requested
    return OutputFormat.table if _isatty(stdout) else OutputFormat.ndjson


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Column(Generic[T]):
    header: str
    value: Callable[[T], object]
    no_wrap: bool = False
    style: str | None = None


def to_jsonable(item: object) -> Any:
    """Pydantic models as the API sent them (ISO-8601 times, unknown fields kept)."""
    if isinstance(item, pydantic.BaseModel):
        return item.model_dump(mode="json")
    if isinstance(item, (list, tuple)):
        return [to_jsonable(entry) for entry in cast("Sequence[object]", item)]
    if isinstance(item, dict):
        return {str(key): to_jsonable(value) for key, value in cast("dict[object, object]", item).items()}
    if isinstance(item, datetime):
        return item.isoformat()
    if isinstance(item, Enum):
        return item.value
    return item


def compact_json(value: object) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))


class Printer:
    """Renders records in the chosen format; every command prints through one of these."""

    def __init__(
        self,
        fmt: OutputFormat,
        *,
        now: Callable[[], datetime],
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.format = fmt
        self._now = now
        self._stdout = stdout or sys.stdout
        self._stderr = stderr or sys.stderr
        self.console = _console(self._stdout)
        self.err_console = _console(self._stderr)

    @property
    def human(self) -> bool:
        return self.format is OutputFormat.table

    # ---- structured records -------------------------------------------------------------
    def records(self, items: Sequence[T], columns: Sequence[Column[T]], *, empty: str) -> None:
        """A list: a table, a JSON array, or one JSON document per line."""
        if self.format is OutputFormat.json:
            self._write(json.dumps(to_jsonable(list(items)), ensure_ascii=False, indent=2))
        elif self.format is OutputFormat.ndjson:
            for item in items:
                self._write(compact_json(item))
        elif not items:
            self.note(empty)
        else:
            table = Table(box=None, header_style="bold", pad_edge=False)
            for column in columns:
                table.add_column(column.header, no_wrap=column.no_wrap, style=column.style)
            for item in items:
                table.add_row(*(self.cell(column.value(item)) for column in columns))
            self.console.print(table)

    def record(self, item: object, fields: Sequence[Column[Any]] | None = None) -> None:
        """One object: a field/value view, or one JSON document (pretty for json, one line for ndjson)."""
        if self.format is OutputFormat.json:
            self._write(json.dumps(to_jsonable(item), ensure_ascii=False, indent=2))
        elif self.format is OutputFormat.ndjson:
            self._write(compact_json(item))
        else:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column()
            for column in fields or _model_fields(item):
                grid.add_row(column.header, self.cell(column.value(item), pretty=True))
            self.console.print(grid)

    def result(self, item: object, message: str | Text) -> None:
        """The outcome of an action: a sentence on a terminal, the object itself for programs."""
        if self.human:
            self.console.print(message, highlight=False, soft_wrap=True)
        else:
            self.record(item)

    def line(self, item: object, human: Text) -> None:
        """One entry of a live feed (stream, forward): a rendered line or one JSON document."""
        if self.human:
            self.console.print(human, highlight=False, soft_wrap=True)
        else:
            self._write(compact_json(item))

    # ---- side channel ------------------------------------------------------------------------
    def note(self, message: str | Text) -> None:
        """Progress and summaries, on stderr so stdout stays parseable."""
        self.err_console.print(message, highlight=False, soft_wrap=True)

    def cell(self, value: object, *, pretty: bool = False) -> str | Text:
        if value is None:
            return Text("-", style="dim")
        if isinstance(value, Text):
            return value
        if isinstance(value, datetime):
            ago = relative(value, self._now())
            return f"{ago} ({value.isoformat()})" if pretty else ago
        if isinstance(value, Enum):
            return str(value.value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        strings = _string_list(value)
        if strings is not None:
            return ", ".join(strings) if strings else Text("-", style="dim")
        if isinstance(value, (str, int, float)):
            return str(value)
        if pretty:
            return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)
        return compact_json(value)

    def _write(self, text: str) -> None:
        typer.echo(text, file=self._stdout)


def _string_list(value: object) -> list[str] | None:
    """A list of strings (event type globs...) shown comma-separated; None for anything else."""
    if not isinstance(value, (list, tuple)):
        return None
    entries = cast("Sequence[object]", value)
    return (
        [entry for entry in entries if isinstance(entry, str)]
        if all(isinstance(entry, str) for entry in entries)
        else None
    )


def _console(stream: IO[str]) -> Console:
    return Console(file=stream, width=None if _isatty(stream) else _PIPE_WIDTH, highlight=False)


def _model_fields(item: object) -> list[Column[Any]]:
    raw = to_jsonable(item)
    if not isinstance(raw, dict):
        return [Column("value", lambda _: raw)]
    data = cast("dict[str, Any]", raw)
    original: dict[str, object] = {}
    if isinstance(item, pydantic.BaseModel):
        original = {name: getattr(item, name, None) for name in type(item).model_fields}
    return [Column(name, _getter(original, data, name)) for name in data]


def _getter(original: dict[str, object], data: dict[str, Any], name: str) -> Callable[[object], object]:
    """Prefer the typed attribute (so datetimes render relative), else the JSON value."""
    return lambda _item: original.get(name, data[name]) if name in original else data[name]
