"""The filter dialect engine: validation pointers, evaluation and traces."""

from __future__ import annotations

from typing import Any

import pytest

from triggers_server.domain.filters import (
    evaluate,
    subscription_matches,
    validate_filter,
    validate_type_globs,
)

EVENT: dict[str, Any] = {
    "id": "evt_1",
    "external_id": "A-1",
    "type": "order.created",
    "source": "https://shop.example/orders",
    "subject": "orders/42",
    "time": "2026-11-25T10:00:00Z",
    "data": {"total": 42, "currency": "EUR", "lines": [{"sku": "X-1"}], "gift": False, "note": None},
    "metadata": {"region": "eu"},
    "extensions": {"tenant": "acme"},
}


@pytest.mark.parametrize(
    ("expression", "matched"),
    [
        ({"exact": {"type": "order.created"}}, True),
        ({"exact": {"type": "order.Created"}}, False),
        ({"prefix": {"type": "order."}}, True),
        ({"suffix": {"source": "/orders"}}, True),
        ({"suffix": {"source": "/refunds"}}, False),
        ({"exact": {"data.total": "42"}}, True),
        ({"prefix": {"data.total": "4"}}, True),
        ({"exact": {"data.gift": "false"}}, True),
        ({"exact": {"data.note": "null"}}, False),
        ({"exact": {"data.lines": "[]"}}, False),
        ({"exact": {"data.lines.0.sku": "X-1"}}, True),
        ({"exact": {"data.lines.7.sku": "X-1"}}, False),
        ({"exact": {"data.missing": "x"}}, False),
        ({"exact": {"data": "x"}}, False),
        ({"exact": {"metadata.region": "eu"}}, True),
        ({"exact": {"tenant": "acme"}}, True),
        ({"exact": {"id": "A-1"}}, True),
        ({"exact": {"id": "evt_1"}}, False),
        ({"exact": {"id": "A-1", "subject": "orders/42"}}, True),
        ({"exact": {"id": "A-1", "subject": "x"}}, False),
        ({"all": [{"prefix": {"type": "order."}}, {"exact": {"data.currency": "EUR"}}]}, True),
        ({"all": [{"prefix": {"type": "order."}}, {"exact": {"data.currency": "USD"}}]}, False),
        ({"any": [{"exact": {"type": "x"}}, {"exact": {"data.currency": "EUR"}}]}, True),
        ({"any": [{"exact": {"type": "x"}}, {"exact": {"type": "y"}}]}, False),
        ({"not": {"exact": {"type": "order.created"}}}, False),
        ({"not": {"exact": {"subject": "other"}}}, True),
    ],
)
def test_evaluate(expression: dict[str, Any], matched: bool) -> None:
    assert validate_filter(expression) == []
    assert evaluate(expression, EVENT).matched is matched


def test_missing_top_level_attribute_never_matches() -> None:
    event = {**EVENT, "subject": None}
    assert not evaluate({"prefix": {"subject": "o"}}, event).matched
    assert evaluate({"not": {"prefix": {"subject": "o"}}}, event).matched


def test_no_filter_matches_everything() -> None:
    result = evaluate(None, EVENT)
    assert result.matched and result.trace == ()


def test_trace_lists_every_clause_with_pointers() -> None:
    expression = {"all": [{"prefix": {"type": "order."}}, {"not": {"exact": {"data.currency": "EUR"}}}]}
    result = evaluate(expression, EVENT)
    assert not result.matched
    assert [entry.as_dict() for entry in result.trace] == [
        {
            "path": "/all",
            "dialect": "all",
            "attribute": None,
            "expected": None,
            "actual": None,
            "matched": False,
        },
        {
            "path": "/all/0/prefix",
            "dialect": "prefix",
            "attribute": "type",
            "expected": "order.",
            "actual": "order.created",
            "matched": True,
        },
        {
            "path": "/all/1/not",
            "dialect": "not",
            "attribute": None,
            "expected": None,
            "actual": None,
            "matched": False,
        },
        {
            "path": "/all/1/not/exact",
            "dialect": "exact",
            "attribute": "data.currency",
            "expected": "EUR",
            "actual": "EUR",
            "matched": True,
        },
    ]


def test_trace_shows_json_text_and_null_for_absent() -> None:
    result = evaluate({"exact": {"data.total": "41", "data.nothing": "x"}}, EVENT)
    assert [(entry.actual, entry.matched) for entry in result.trace] == [("42", False), (None, False)]


@pytest.mark.parametrize(
    ("expression", "pointer", "fragment"),
    [
        ({}, "/filter", "exactly one dialect"),
        ([], "/filter", "object"),
        ({"exact": {"type": "a"}, "prefix": {"type": "b"}}, "/filter", "exactly one dialect"),
        ({"sql": "type = 'x'"}, "/filter/sql", "not supported"),
        ({"regex": {"type": ".*"}}, "/filter/regex", "unsupported filter dialect 'regex'"),
        ({"exact": {}}, "/filter/exact", "non-empty"),
        ({"exact": {"type": {"a": 1}}}, "/filter/exact/type", "values are strings"),
        ({"exact": {"data.total": 42}}, "/filter/exact/data.total", "values are strings"),
        ({"prefix": {"type": ""}}, "/filter/prefix/type", "non-empty strings"),
        ({"suffix": {"type": 3}}, "/filter/suffix/type", "values are strings"),
        ({"exact": {"": "x"}}, "/filter/exact/", "attribute names"),
        ({"exact": {"data..x": "x"}}, "/filter/exact/data..x", "attribute names"),
        ({"all": []}, "/filter/all", "non-empty array"),
        ({"any": {"exact": {"type": "x"}}}, "/filter/any", "non-empty array"),
        ({"all": [{"exact": {"type": "x"}}, {"nope": 1}]}, "/filter/all/1/nope", "unsupported"),
        ({"not": []}, "/filter/not", "object"),
    ],
)
def test_validation_errors_carry_pointers(expression: Any, pointer: str, fragment: str) -> None:
    errors = validate_filter(expression)
    assert errors, expression
    assert errors[0].pointer == pointer
    assert fragment in errors[0].detail


def test_validation_rejects_excessive_nesting() -> None:
    expression: dict[str, Any] = {"exact": {"type": "x"}}
    for _ in range(20):
        expression = {"not": expression}
    assert "deeper" in validate_filter(expression)[0].detail


def test_pointer_escaping_of_slash_attribute() -> None:
    errors = validate_filter({"exact": {"a/b": "x"}})
    assert errors[0].pointer == "/filter/exact/a~1b"


def test_type_glob_validation() -> None:
    assert validate_type_globs(["order.*", "*"], "/event_types") == []
    errors = validate_type_globs(["ok", "bad glob", "", "a?", 3, "x[1]"], "/event_types")
    assert [error.pointer for error in errors] == [
        "/event_types/1",
        "/event_types/2",
        "/event_types/3",
        "/event_types/4",
        "/event_types/5",
    ]
    assert validate_type_globs("order.*", "/event_types")[0].pointer == "/event_types"


def test_subscription_matches_checks_types_then_filter() -> None:
    skipped = subscription_matches(["invoice.*"], {"exact": {"type": "order.created"}}, EVENT)
    assert not skipped.matched
    assert [(entry.path, entry.dialect) for entry in skipped.trace] == [("", "event_types")]
    passed = subscription_matches(["order.*"], {"exact": {"data.currency": "EUR"}}, EVENT)
    assert passed.matched
    assert [entry.dialect for entry in passed.trace] == ["event_types", "exact"]
    assert subscription_matches(None, None, EVENT).matched
