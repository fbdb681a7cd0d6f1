"""ECMA-262 regular expressions for JSON Schema's `pattern`, `patternProperties` and `format: regex`.

JSON Schema specifies ECMA-262 regexes; Python's `re` differs (no `\\p{Letter}`, `\\d` matches any
Unicode digit, `$` matches before a trailing newline). The `regress` library implements ECMA-262, so the
keywords that match strings against schema patterns are swapped for versions that use it. Patterns are
compiled in Unicode mode (`u`), falling back to legacy mode for patterns only it accepts (for example
`\\_` identity escapes).

`unevaluatedProperties` still consults `patternProperties` through the library's own `re` code; a
schema combining it with a pattern `re` cannot compile is refused at registration
(``unsupported_pattern_combinations``) rather than failing at ingestion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast

import regress
from jsonschema import FormatChecker, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> regress.Regex:
    """Raises ``regress.RegressError`` when ``pattern`` is not an ECMA-262 regex."""
    try:
        return regress.Regex(pattern, "u")
    except regress.RegressError:
        return regress.Regex(pattern)


def search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).find(text) is not None


def is_pattern(pattern: str) -> bool:
    try:
        compile_pattern(pattern)
    except regress.RegressError:
        return False
    return True


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, pattern_properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = sorted(key for key in instance if key not in properties and not any(search(p, key) for p in patterns))
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        listed = ", ".join(repr(extra) for extra in extras)
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            regexes = ", ".join(repr(pattern) for pattern in sorted(patterns))
            yield ValidationError(f"{listed} {verb} not match any of the regexes: {regexes}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def format_checker(base: FormatChecker) -> FormatChecker:
    """``base``'s checkers, with `regex` judged by ECMA-262."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)

    @checker.checks("regex")
    def _is_regex(instance: object) -> bool:
        return not isinstance(instance, str) or is_pattern(instance)

    return checker


@lru_cache(maxsize=16)
def ecma_validator(base: type[Validator]) -> type[Validator]:
    """``base`` with the pattern keywords matching by ECMA-262 (for dialects that have them)."""
    overrides = {
        name: fn
        for name, fn in (
            ("pattern", _pattern),
            ("patternProperties", _pattern_properties),
            ("additionalProperties", _additional_properties),
        )
        if name in base.VALIDATORS
    }
    checker = format_checker(base.FORMAT_CHECKER)
    # the stubs leave `extend` unannotated
    extended = validators.extend(base, overrides, format_checker=checker)  # type: ignore[no-untyped-call]
    return cast("type[Validator]", extended)


def unsupported_pattern_combinations(schema: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """`patternProperties` keys `re` cannot compile, in a schema that uses unevaluatedProperties."""
    if not _mentions(schema, "unevaluatedProperties"):
        return []
    found: list[tuple[str, ...]] = []

    def walk(node: Any, at: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            members = cast("dict[str, Any]", node)
            patterns = members.get("patternProperties")
            if isinstance(patterns, dict):
                for key in cast("dict[str, Any]", patterns):
                    try:
                        re.compile(key)
                    except re.error:
                        found.append((*at, "patternProperties", key))
            for key, value in members.items():
                walk(value, (*at, key))
        elif isinstance(node, list):
            entries: list[Any] = cast("list[object]", node)
            for index, value in enumerate(entries):
                walk(value, (*at, str(index)))

    walk(schema, path)
    return found


def _mentions(node: Any, keyword: str) -> bool:
    if isinstance(node, dict):
        members = cast("dict[str, Any]", node)
        return keyword in members or any(_mentions(v, keyword) for v in members.values())
    if isinstance(node, list):
        entries: list[Any] = cast("list[object]", node)
        return any(_mentions(v, keyword) for v in entries)
    return False
