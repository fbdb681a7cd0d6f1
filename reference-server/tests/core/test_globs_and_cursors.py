"""Type globs mean the same in SQL (list, inbox, replay) and in Python (stream, lease checks); cursors
are opaque and refuse anything that is not theirs."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field
from triggers_server.domain.errors import Malformed
from triggers_server.globs import InvalidGlob, matches_any, sql_clause, validate_globs

TYPES = st.text(alphabet="ab.*-_%/", min_size=0, max_size=8)
GLOBS = st.text(alphabet="ab.*-_%/", min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(value=TYPES.filter(lambda text: "*" not in text), globs=st.lists(GLOBS, min_size=1, max_size=3))
def test_sql_and_python_agree(value: str, globs: list[str]) -> None:
    validate_globs(globs, field="type")
    clause, params = sql_clause("t", globs)
    with sqlite3.connect(":memory:") as conn:
        in_sql = conn.execute(f"SELECT {clause} FROM (SELECT ? AS t)", (*params, value)).fetchone()[0] == 1
    assert in_sql == matches_any(value, globs)


@pytest.mark.parametrize(
    ("value", "globs", "expected"),
    [
        ("order.created", ["order.*"], True),
        ("order.created.v2", ["order.*"], True),
        ("order", ["order.*"], False),
        ("payment.captured", ["*.captured"], True),
        ("anything", [], True),
        ("a.b", ["a.b"], True),
        ("a.bc", ["a.b"], False),
    ],
)
def test_glob_examples(value: str, globs: list[str], expected: bool) -> None:
    assert matches_any(value, globs) is expected


@pytest.mark.parametrize("glob", ["", "a?", "a[b]", "a b", "tab\t", "x" * 256])
def test_bad_globs_are_refused(glob: str) -> None:
    with pytest.raises(InvalidGlob) as caught:
        validate_globs([glob], field="type")
    assert "`type`" in str(caught.value)


def test_cursors_round_trip_and_are_kind_checked() -> None:
    cursor = encode_cursor("events", {"s": 42})
    position = decode_cursor("events", cursor)
    assert position is not None and int_field(position, "s") == 42
    assert decode_cursor("events", None) is None
    for bad in ("", "%%%", "bm90IGpzb24", encode_cursor("inbox", {"s": 1})):
        with pytest.raises(Malformed):
            decode_cursor("events", bad)
    with pytest.raises(Malformed):
        int_field({"s": -1}, "s")
    with pytest.raises(Malformed):
        int_field({"s": True}, "s")
