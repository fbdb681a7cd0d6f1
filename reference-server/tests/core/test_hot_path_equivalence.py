"""The ingest path's speed-ups change no result: `jsoncodec.loads` (orjson first) parses or refuses exactly as
the stdlib parser behind it, and `new_id` encodes exactly the 5-bit groups of its 130-bit value."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers_server import ids, jsoncodec


def _outcome(parse: Any, raw: bytes | str) -> tuple[str, Any]:
    try:
        value = parse(raw)
    except Exception as error:  # the exception type and message are part of the behaviour
        return ("raises", (type(error), str(error), getattr(error, "pointer", None)))
    return ("value", _typed(value))


def _typed(value: Any) -> Any:
    """The value with every scalar's type kept, so 1 and 1.0 (and -0.0 and 0.0) differ."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(child)) for key, child in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(child) for child in value])
    if isinstance(value, float):
        return ("float", math.copysign(1.0, value), repr(value))
    return (type(value).__name__, value)


EDGE_CASES = [
    b"1e400",
    b"-1e400",
    b"123456789012345678901234567890",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b'{"n": 12345678901234567890123}',
    b'"\\ud800"',
    b'{"\\udc00": 1}',
    b'"\\ud83d\\ude00"',
    b'{"a": 1, "b": 2, "a": 3}',
    b"\x0c1",
    b'"a\x01b"',
    b'"a\x7fb"',
    b"\xef\xbb\xbf{}",
    b"-0",
    b"-0.0",
    b"1E2",
    b"5e-324",
    b"1e-400",
    b"0.1000000000000000055511151231257827",
    b"[1,]",
    b"NaN",
    b"-Infinity",
    b"01",
    b'"\\u0000"',
    b'"\xed\xa0\x80"',
    b"\xff",
    b"",
    b"[" * 129 + b"]" * 129,
    b"[" * 128 + b"]" * 128,
    b"[" * 2000 + b"]" * 2000,
    b'{"data": {"amount": 1e999}}',
    '{"s": "\u00e9", "n": 1.5}',
    '"\ud800"',
]


@pytest.mark.parametrize("raw", EDGE_CASES, ids=lambda raw: repr(raw)[:40])
def test_loads_matches_the_stdlib_parser_on_edge_cases(raw: bytes | str) -> None:
    assert _outcome(jsoncodec.loads, raw) == _outcome(jsoncodec._stdlib_loads, raw)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_values, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 1]))
def test_loads_matches_the_stdlib_parser_on_any_json(value: Any, ensure_ascii: bool, indent: int | None) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    for raw in (text, text.encode("utf-8", "surrogatepass")):
        assert _outcome(jsoncodec.loads, raw) == _outcome(jsoncodec._stdlib_loads, raw)


def _five_bit_groups(value: int) -> str:
    return "".join(ids._ALPHABET[(value >> (5 * index)) & 31] for index in range(25, -1, -1))


class _FixedBits:
    def __init__(self, bits: int) -> None:
        self.bits = bits

    def getrandbits(self, count: int) -> int:
        assert count == 80
        return self.bits


@settings(max_examples=300, deadline=None)
@given(millis=st.integers(min_value=0, max_value=2**48 - 1), random_bits=st.integers(min_value=0, max_value=2**80 - 1))
def test_new_id_encodes_the_timestamp_and_random_bits(millis: int, random_bits: int) -> None:
    real_time, real_random = ids.time, ids._random
    ids.time = SimpleNamespace(time=lambda: millis / 1000 + 0.0001)  # type: ignore[assignment]
    ids._random = _FixedBits(random_bits)  # type: ignore[assignment]
    try:
        made = ids.new_id("evt")
    finally:
        ids.time, ids._random = real_time, real_random
    assert made == "evt_" + _five_bit_groups((millis << 80) | random_bits)
