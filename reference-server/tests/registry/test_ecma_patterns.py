"""Patterns follow ECMA-262 (as JSON Schema requires), not Python's `re`."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from triggers_server.domain.registry.dialect import DEFAULT_DIALECT
from triggers_server.domain.registry.ecma import ecma_validator, is_pattern, search
from triggers_server.domain.registry.validation import (
    InvalidSchema,
    compile_schema,
    document_registry,
    payload_errors,
)

DOCUMENTS = document_registry()


def errors(schema: Any, data: Any) -> list[dict[str, str]]:
    return payload_errors(compile_schema(schema, DOCUMENTS, DEFAULT_DIALECT), data)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^\p{Letter}+$", "π", True),  # Unicode property escapes (not in Python's re)
        (r"^\d+$", "١٢٣", False),  # \d is ASCII-only in ECMA-262, Unicode digits in Python
        (r"^a$", "a\n", False),  # $ does not match before a trailing newline
        (r"\_", "_", True),  # identity escape: only legal outside Unicode mode, so we fall back
    ],
)
def test_ecma_semantics(pattern: str, text: str, matches: bool) -> None:
    assert search(pattern, text) is matches


def test_invalid_patterns_are_detected() -> None:
    assert is_pattern("^[a-z]+$")
    assert not is_pattern("(unclosed")
    with pytest.raises(InvalidSchema) as error:
        compile_schema({"patternProperties": {"(": {}}}, DOCUMENTS, DEFAULT_DIALECT)
    assert error.value.errors[0]["pointer"] == "/patternProperties"


def test_keywords_use_ecma_patterns() -> None:
    assert errors({"pattern": r"^\p{Lu}"}, "Éclair") == []
    assert errors({"pattern": r"^\d+$"}, "١٢٣") == [{"pointer": "/data", "detail": "'١٢٣' does not match '^\\\\d+$'"}]
    schema = {"patternProperties": {r"^\p{Letter}+$": {"type": "number"}}, "additionalProperties": False}
    assert errors(schema, {"π": 1}) == []
    assert errors(schema, {"π": "x"}) == [{"pointer": "/data/π", "detail": "'x' is not of type 'number'"}]
    assert errors(schema, {"1": 1}) == [
        {"pointer": "/data", "detail": "'1' does not match any of the regexes: '^\\\\p{Letter}+$'"}
    ]
    closed: dict[str, Any] = {"properties": {"a": {}}, "additionalProperties": False}
    assert errors(closed, {"a": 1, "b": 2}) == [
        {"pointer": "/data", "detail": "Additional properties are not allowed ('b' unexpected)"}
    ]
    assert errors({"additionalProperties": {"type": "string"}}, {"k": 1})[0]["pointer"] == "/data/k"


def test_unevaluated_properties_with_ecma_only_pattern_is_refused() -> None:
    schema: dict[str, Any] = {"patternProperties": {r"^\p{L}": {}}, "unevaluatedProperties": False}
    with pytest.raises(InvalidSchema) as error:
        compile_schema(schema, DOCUMENTS, DEFAULT_DIALECT)
    assert error.value.errors[0]["pointer"] == "/patternProperties/^\\p{L}"
    assert errors({"patternProperties": {"^x": {}}, "unevaluatedProperties": False}, {"y": 1}) != []


def test_other_dialects_keep_their_keywords() -> None:
    draft7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "items": [{"type": "string"}],
        "additionalItems": False,
    }
    assert errors(draft7, ["a"]) == []
    assert errors(draft7, ["a", "b"]) != []
    assert ecma_validator(Draft202012Validator) is ecma_validator(Draft202012Validator)
