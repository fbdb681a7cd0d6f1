"""The printer's formats and cell rendering, without a server."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from enum import Enum

from rich.text import Text

from zapier_triggers.cli.output import Column, OutputFormat, Printer, resolve_format, to_jsonable

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


class Color(str, Enum):
    red = "red"


def printer(fmt: OutputFormat) -> tuple[Printer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Printer(fmt, now=lambda: NOW, stdout=out, stderr=err), out, err


def test_format_defaults_to_ndjson_when_not_a_terminal() -> None:
    assert resolve_format(None, io.StringIO()) is OutputFormat.ndjson
    assert resolve_format(OutputFormat.table, io.StringIO()) is OutputFormat.table


def test_cells_render_for_humans() -> None:
    p, _, _ = printer(OutputFormat.table)
    assert str(p.cell(None)) == "-"
    assert p.cell(True) == "yes" and p.cell(False) == "no"
    assert p.cell(Color.red) == "red"
    assert p.cell(["order.*", "user.*"]) == "order.*, user.*"
    assert str(p.cell([])) == "-"
    assert p.cell({"a": [1, 2]}) == '{"a":[1,2]}'
    assert p.cell(NOW - timedelta(minutes=3)) == "3m ago"
    assert p.cell(NOW - timedelta(minutes=3), pretty=True) == "3m ago (2026-11-25T11:57:00+00:00)"
    assert isinstance(p.cell(Text("x")), Text)


def test_records_in_each_format() -> None:
    rows: list[dict[str, object]] = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
    columns: list[Column[dict[str, object]]] = [
        Column("ID", lambda r: r["id"]),
        Column("N", lambda r: r["n"]),
    ]

    table, out, _ = printer(OutputFormat.table)
    table.records(rows, columns, empty="none")
    assert out.getvalue().split() == ["ID", "N", "a", "1", "b", "2"]

    as_json, out, _ = printer(OutputFormat.json)
    as_json.records(rows, columns, empty="none")
    assert json.loads(out.getvalue()) == rows

    ndjson, out, _ = printer(OutputFormat.ndjson)
    ndjson.records(rows, columns, empty="none")
    assert [json.loads(line) for line in out.getvalue().splitlines()] == rows

    empty, out, err = printer(OutputFormat.table)
    empty.records([], columns, empty="Nothing here.")
    assert out.getvalue() == "" and err.getvalue() == "Nothing here.\n"


def test_to_jsonable_keeps_iso_times_and_enum_values() -> None:
    assert to_jsonable({"at": NOW, "c": Color.red, "t": (1, 2)}) == {
        "at": "2026-11-25T12:00:00+00:00",
        "c": "red",
        "t": [1, 2],
    }
