"""JSON on the hot paths: orjson to serialise (falling back to the stdlib for integers beyond 64 bits,
which orjson refuses), the stdlib to parse with NaN/Infinity refused (they are not JSON)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes | str) -> Any:
    """Parse JSON; raises ValueError (also for NaN/Infinity) or UnicodeDecodeError."""
    return json.loads(raw, parse_constant=_refuse_constant)


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer outside 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()
