"""JSON on the hot paths: orjson to serialise (falling back to the stdlib for integers beyond 64 bits,
which orjson refuses), the stdlib to parse (integers stay exact) with what JSON or the contract does not
allow refused: NaN/Infinity, nesting deeper than `MAX_JSON_DEPTH`, lone surrogate escapes (they cannot be
stored or sent as UTF-8) and numbers outside the double range (they would become infinity, then null)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, cast

import orjson

from triggers_server.contract_facts import MAX_JSON_DEPTH

# A `\u` escape of a UTF-16 surrogate; only such an escape can put a lone surrogate into a parsed string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE.pattern.encode())
# 19 digits in a row: possibly an integer beyond 64 bits, which only the stdlib keeps exact.
_LONG_DIGITS = re.compile("[0-9]{19}")
_LONG_DIGITS_BYTES = re.compile(b"[0-9]{19}")


class JsonRefused(ValueError):
    """Parseable, but not a value the API accepts; `pointer` (RFC 6901) locates it when known."""

    def __init__(self, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer


class TooDeep(JsonRefused):
    pass


class LoneSurrogate(JsonRefused):
    pass


class NumberOutOfRange(JsonRefused):
    pass


class _Overflow:
    """Stands in for a number that overflowed a double while parsing, so its pointer can be found."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes | str) -> Any:
    """Parse JSON the API accepts. Raises `TooDeep`, `LoneSurrogate`, `NumberOutOfRange` (all `JsonRefused`),
    any other ValueError for text that is not JSON, or UnicodeDecodeError.

    orjson parses first where it cannot differ from the stdlib: it refuses (and the stdlib then parses, or
    words the error) NaN/Infinity, numbers beyond a double, lone surrogates, invalid UTF-8, a BOM and anything
    not JSON; what it accepts it reads as the stdlib does, except integers beyond 64 bits (it makes them
    floats), so text with a run of 19 digits goes to the stdlib. That took the JSON share of a batch ingest
    from about 9% of the event loop's time to a few (py-spy, bench/server_ingest.py)."""
    long_digits = _LONG_DIGITS_BYTES.search(raw) if isinstance(raw, bytes) else _LONG_DIGITS.search(raw)
    if long_digits is None:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if _openers(raw) > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
                raise TooDeep(_too_deep_detail())
            return value
    return _stdlib_loads(raw)


def _openers(raw: bytes | str) -> int:
    return raw.count(b"[") + raw.count(b"{") if isinstance(raw, bytes) else raw.count("[") + raw.count("{")


def _stdlib_loads(raw: bytes | str) -> Any:
    overflows: list[_Overflow] = []

    def parse_float(text: str) -> Any:
        value = float(text)
        if value - value == 0.0:  # finite
            return value
        overflow = _Overflow(text)
        overflows.append(overflow)
        return overflow

    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=parse_float)
    except RecursionError as error:  # far deeper than the limit: the C scanner ran out of stack
        raise TooDeep(_too_deep_detail()) from error
    if isinstance(raw, str):
        openers, escaped = raw.count("[") + raw.count("{"), _SURROGATE_ESCAPE.search(raw) is not None
    else:
        openers, escaped = raw.count(b"[") + raw.count(b"{"), _SURROGATE_ESCAPE_BYTES.search(raw) is not None
    if openers > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):  # fewer openers cannot nest deeper
        raise TooDeep(_too_deep_detail())
    if overflows:
        pointer = next(p for p, leaf in _leaves(value, "") if isinstance(leaf, _Overflow))
        raise NumberOutOfRange(f"{overflows[0].text[:40]} is outside the range of a double", pointer)
    if escaped:
        for pointer, leaf in _leaves(value, ""):
            if isinstance(leaf, str) and not _encodable(leaf):
                shown = pointer.encode("utf-8", "backslashreplace").decode("utf-8")
                raise LoneSurrogate("a string holds a lone UTF-16 surrogate escape", shown)
    return value


def _too_deep_detail() -> str:
    return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays"


def _deeper_than(value: Any, levels: int) -> bool:
    """Whether objects/arrays nest more than `levels` deep (the outermost container is level 1)."""
    if levels == 0:
        return True
    children: Iterable[Any] = cast("dict[str, Any]", value).values() if type(value) is dict else value
    for child in children:
        if isinstance(child, (dict, list)) and _deeper_than(child, levels - 1):
            return True
    return False


def _leaves(value: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every key and scalar, depth first; keys are reported at their member's pointer."""
    if isinstance(value, dict):
        for key, child in cast("dict[str, Any]", value).items():
            at = pointer + "/" + key.replace("~", "~0").replace("/", "~1")
            yield at, key
            yield from _leaves(child, at)
    elif isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]  # parsed JSON
        for index, child in enumerate(items):
            yield from _leaves(child, f"{pointer}/{index}")
    else:
        yield pointer, value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer outside 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()
