"""Subscription filters: the CloudEvents Subscriptions dialects plus event-type globs.

A filter is one expression object with exactly one dialect key:

* ``{"exact": {attr: value, ...}}``, ``{"prefix": {...}}``, ``{"suffix": {...}}`` — every listed
  attribute must match (case-sensitive); a missing attribute never matches;
* ``{"all": [expr, ...]}`` (≥ 1, all true), ``{"any": [expr, ...]}`` (≥ 1, one true),
  ``{"not": expr}``.

Attributes are the event's top-level fields (``type``, ``source``, ``subject``, ``id``, ``time``,
``external_id``, ``correlation_id``, …), its CloudEvents ``extensions`` (by name), ``metadata.<key>``
and ``data.<dotted.path>`` (numeric segments index arrays).  ``exact`` compares JSON values, so
``{"exact": {"data.total": 42}}`` matches the number 42; ``prefix``/``suffix`` only match strings.
The CloudEvents ``sql`` dialect is not supported and is rejected, as the spec requires.

Evaluation returns ``matched`` and a trace with one entry per clause (JSON pointer into the
filter), so ``POST /filters/test`` and replay dry-runs can explain a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

LEAF_DIALECTS: Final = ("exact", "prefix", "suffix")
DIALECTS: Final = (*LEAF_DIALECTS, "all", "any", "not")
MAX_FILTER_DEPTH: Final = 16

_GLOB_RE: Final = re.compile(r"^[A-Za-z0-9_\-.:/*]{1,256}$")
_ATTRIBUTE_RE: Final = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")

_MISSING: Final = object()


@dataclass(frozen=True)
class FieldError:
    """One invalid part of a request: a JSON pointer and what is wrong there."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


@dataclass(frozen=True)
class TraceEntry:
    """The verdict of one clause; ``attribute``/``expected``/``actual`` are set for leaf clauses."""

    pointer: str
    dialect: str
    matched: bool
    attribute: str | None = None
    expected: Any = None
    actual: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "dialect": self.dialect,
            "attribute": self.attribute,
            "expected": self.expected,
            "actual": self.actual,
            "matched": self.matched,
        }


@dataclass(frozen=True)
class FilterResult:
    matched: bool
    trace: tuple[TraceEntry, ...]


# --------------------------------------------------------------------------- event-type globs


def validate_type_glob(glob: object) -> str | None:
    """Return why ``glob`` is not a valid event-type glob, or None when it is."""
    if not isinstance(glob, str):
        return "must be a string"
    if not _GLOB_RE.match(glob):
        return "must be 1-256 characters of letters, digits, '_', '-', '.', ':', '/' and '*'"
    if "**" in glob:
        return "'**' is not allowed; '*' already matches any characters"
    return None


def type_glob_matches(glob: str, event_type: str) -> bool:
    """``*`` matches any run of characters (dots included); everything else is literal."""
    if glob == "*":
        return True
    pattern = "^" + ".*".join(re.escape(part) for part in glob.split("*")) + "$"
    return re.match(pattern, event_type, flags=re.DOTALL) is not None


def types_match(globs: Sequence[str] | None, event_type: str) -> bool:
    """No globs (None or empty) means every type."""
    if not globs:
        return True
    return any(type_glob_matches(glob, event_type) for glob in globs)


def validate_type_globs(globs: object, pointer: str) -> list[FieldError]:
    if globs is None:
        return []
    if not isinstance(globs, list):
        return [FieldError(pointer, "must be an array of event-type globs")]
    errors: list[FieldError] = []
    for index, glob in enumerate(globs):
        problem = validate_type_glob(glob)
        if problem is not None:
            errors.append(FieldError(f"{pointer}/{index}", problem))
    return errors


# --------------------------------------------------------------------------- validation


def validate_filter(expression: object, pointer: str = "/filter") -> list[FieldError]:
    """Every reason ``expression`` is not a supported filter (empty list when it is valid)."""
    return _validate(expression, pointer, depth=0)


def _validate(expression: object, pointer: str, depth: int) -> list[FieldError]:
    if depth > MAX_FILTER_DEPTH:
        return [FieldError(pointer, f"filter nesting deeper than {MAX_FILTER_DEPTH} levels")]
    if not isinstance(expression, Mapping):
        return [FieldError(pointer, "a filter expression must be an object with one dialect key")]
    if len(expression) != 1:
        names = ", ".join(DIALECTS)
        return [FieldError(pointer, f"a filter expression must have exactly one dialect key ({names})")]
    ((dialect, operand),) = expression.items()
    here = f"{pointer}/{dialect}"
    if dialect in LEAF_DIALECTS:
        return _validate_leaf(dialect, operand, here)
    if dialect in ("all", "any"):
        if not isinstance(operand, list) or not operand:
            return [FieldError(here, f"'{dialect}' needs a non-empty array of filter expressions")]
        errors: list[FieldError] = []
        for index, nested in enumerate(operand):
            errors.extend(_validate(nested, f"{here}/{index}", depth + 1))
        return errors
    if dialect == "not":
        return _validate(operand, here, depth + 1)
    if dialect == "sql":
        return [FieldError(here, "the CloudEvents 'sql' dialect is not supported")]
    return [FieldError(here, f"unsupported filter dialect '{dialect}'; supported: {', '.join(DIALECTS)}")]


def _validate_leaf(dialect: str, operand: object, pointer: str) -> list[FieldError]:
    if not isinstance(operand, Mapping) or not operand:
        return [FieldError(pointer, f"'{dialect}' needs a non-empty object of attribute: value")]
    errors: list[FieldError] = []
    for attribute, value in operand.items():
        here = f"{pointer}/{_escape_pointer(attribute)}"
        if not isinstance(attribute, str) or not _ATTRIBUTE_RE.match(attribute):
            errors.append(FieldError(here, "attribute names are non-empty dotted names"))
        elif dialect == "exact":
            if isinstance(value, (dict, list)):
                errors.append(FieldError(here, "'exact' values are strings, numbers, booleans or null"))
        elif not isinstance(value, str) or not value:
            errors.append(FieldError(here, f"'{dialect}' values are non-empty strings"))
    return errors


def _escape_pointer(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


# --------------------------------------------------------------------------- evaluation


def evaluate(expression: Mapping[str, Any] | None, event: Mapping[str, Any]) -> FilterResult:
    """Evaluate a validated filter against an event dict; no filter matches everything."""
    if expression is None:
        return FilterResult(True, ())
    trace: list[TraceEntry] = []
    matched = _evaluate(expression, event, "/filter", trace)
    return FilterResult(matched, tuple(trace))


def _evaluate(
    expression: Mapping[str, Any], event: Mapping[str, Any], pointer: str, trace: list[TraceEntry]
) -> bool:
    ((dialect, operand),) = expression.items()
    here = f"{pointer}/{dialect}"
    if dialect in LEAF_DIALECTS:
        verdict = True
        for attribute, expected in operand.items():
            actual = resolve_attribute(event, attribute)
            clause = _leaf_matches(dialect, expected, actual)
            shown = None if actual is _MISSING else actual
            trace.append(
                TraceEntry(f"{here}/{_escape_pointer(attribute)}", dialect, clause, attribute, expected, shown)
            )
            verdict = verdict and clause
        return verdict
    position = len(trace)
    if dialect == "not":
        verdict = not _evaluate(operand, event, here, trace)
    else:
        results = [_evaluate(nested, event, f"{here}/{i}", trace) for i, nested in enumerate(operand)]
        verdict = all(results) if dialect == "all" else any(results)
    trace.insert(position, TraceEntry(here, dialect, verdict))
    return verdict


def _leaf_matches(dialect: str, expected: Any, actual: Any) -> bool:
    if actual is _MISSING:
        return False
    if dialect == "exact":
        return _json_equal(actual, expected)
    if not isinstance(actual, str):
        return False
    return actual.startswith(expected) if dialect == "prefix" else actual.endswith(expected)


def _json_equal(actual: Any, expected: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 and "1" is not 1."""
    numeric = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, numeric) and isinstance(expected, numeric):
        return actual == expected
    return type(actual) is type(expected) and bool(actual == expected)


def resolve_attribute(event: Mapping[str, Any], attribute: str) -> Any:
    """The value ``attribute`` names in ``event``, or the private missing marker."""
    head, _, rest = attribute.partition(".")
    if head in ("data", "metadata", "extensions") and rest:
        return _walk(event.get(head, _MISSING), rest.split("."))
    if attribute in event and attribute not in ("data", "metadata", "extensions"):
        value = event[attribute]
        return _MISSING if value is None else value
    extensions = event.get("extensions")
    if isinstance(extensions, Mapping) and attribute in extensions:
        return extensions[attribute]
    return _MISSING


def _walk(node: Any, segments: list[str]) -> Any:
    for segment in segments:
        if isinstance(node, Mapping):
            node = node.get(segment, _MISSING)
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def subscription_matches(
    event_types: Sequence[str] | None, expression: Mapping[str, Any] | None, event: Mapping[str, Any]
) -> FilterResult:
    """Event-type globs first (recorded as one trace entry), then the filter expression."""
    event_type = str(event.get("type", ""))
    if event_types:
        type_ok = types_match(event_types, event_type)
        type_entry = TraceEntry("/event_types", "event_types", type_ok, "type", list(event_types), event_type)
        if not type_ok:
            return FilterResult(False, (type_entry,))
        result = evaluate(expression, event)
        return FilterResult(result.matched, (type_entry, *result.trace))
    return evaluate(expression, event)
