"""Subscription filters: the CloudEvents Subscriptions dialects plus event-type globs.

A filter is one expression object with exactly one dialect key:

* ``{"exact": {attr: "value", ...}}``, ``{"prefix": {...}}``, ``{"suffix": {...}}`` — every listed
  attribute must match (case-sensitive); a missing attribute never matches;
* ``{"all": [expr, ...]}`` (≥ 1, all true), ``{"any": [expr, ...]}`` (≥ 1, one true),
  ``{"not": expr}``.

Attributes are CloudEvents attributes of the event (``id`` is the producer's id, i.e. the stored
event's ``external_id``; ``type``, ``source``, ``subject``, ``time``, ``datacontenttype``,
``dataschema``, ``specversion``, extension names), plus ``correlation_id``/``causation_id``,
``metadata.<key>`` and ``data.<dotted.path>`` (numeric segments index arrays). Values are strings;
a number or boolean in the payload is compared by its JSON text (``42``, ``true``), an object,
array or null never matches. The CloudEvents ``sql`` dialect is not supported and is rejected.

Evaluation returns ``matched`` and a depth-first trace with one entry per clause (``path`` is the
JSON pointer of the clause inside the filter), so ``POST /filters/test`` and replay dry-runs can
explain a verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from triggers_server.domain.errors import FieldError, Invalid
from triggers_server.globs import InvalidGlob, matches_any, validate_globs

LEAF_DIALECTS: Final = ("exact", "prefix", "suffix")
DIALECTS: Final = (*LEAF_DIALECTS, "all", "any", "not")
MAX_FILTER_DEPTH: Final = 16

_ATTRIBUTE_RE: Final = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")

_MISSING: Final = object()


def json_object(value: object) -> Mapping[str, Any] | None:
    """``value`` as a JSON object, or None when it is something else."""
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else None


def json_array(value: object) -> list[Any] | None:
    """``value`` as a JSON array, or None when it is something else."""
    if not isinstance(value, list):
        return None
    items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]  (mypy already sees list[Any])
    return items


def raise_for_errors(errors: Sequence[FieldError]) -> None:
    """`Invalid` (422 `validation`) listing every field error, when there are any."""
    if errors:
        detail = "; ".join(f"{error.pointer}: {error.detail}" for error in errors[:5])
        raise Invalid(detail, errors=errors)


@dataclass(frozen=True)
class TraceEntry:
    """The verdict of one clause; ``attribute``/``expected``/``actual`` are set for leaf clauses."""

    path: str
    dialect: str
    matched: bool
    attribute: str | None = None
    expected: str | None = None
    actual: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
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


def validate_type_globs(globs: object, pointer: str) -> list[FieldError]:
    """Body-field variant of ``globs.validate_globs``: 422-style errors with pointers instead of a 400."""
    if globs is None:
        return []
    items = json_array(globs)
    if items is None:
        return [FieldError(pointer, "must be an array of event-type globs")]
    errors: list[FieldError] = []
    for index, glob in enumerate(items):
        if not isinstance(glob, str):
            errors.append(FieldError(f"{pointer}/{index}", "must be a string"))
            continue
        try:
            validate_globs([glob], field=pointer)
        except InvalidGlob as problem:
            errors.append(FieldError(f"{pointer}/{index}", str(problem)))
    return errors


# --------------------------------------------------------------------------- validation


def validate_filter(expression: object, pointer: str = "/filter") -> list[FieldError]:
    """Every reason ``expression`` is not a supported filter (empty list when it is valid)."""
    return _validate(expression, pointer, depth=0)


def _validate(expression: object, pointer: str, depth: int) -> list[FieldError]:
    if depth > MAX_FILTER_DEPTH:
        return [FieldError(pointer, f"filter nesting deeper than {MAX_FILTER_DEPTH} levels")]
    members = json_object(expression)
    if members is None:
        return [FieldError(pointer, "a filter expression must be an object with one dialect key")]
    if len(members) != 1:
        names = ", ".join(DIALECTS)
        return [FieldError(pointer, f"a filter expression must have exactly one dialect key ({names})")]
    ((dialect, operand),) = members.items()
    here = f"{pointer}/{dialect}"
    if dialect in LEAF_DIALECTS:
        return _validate_leaf(dialect, operand, here)
    if dialect in ("all", "any"):
        nested_filters = json_array(operand)
        if not nested_filters:
            return [FieldError(here, f"'{dialect}' needs a non-empty array of filter expressions")]
        errors: list[FieldError] = []
        for index, nested in enumerate(nested_filters):
            errors.extend(_validate(nested, f"{here}/{index}", depth + 1))
        return errors
    if dialect == "not":
        return _validate(operand, here, depth + 1)
    if dialect == "sql":
        return [FieldError(here, "the CloudEvents 'sql' dialect is not supported")]
    return [FieldError(here, f"unsupported filter dialect '{dialect}'; supported: {', '.join(DIALECTS)}")]


def _validate_leaf(dialect: str, operand: object, pointer: str) -> list[FieldError]:
    pairs = json_object(operand)
    if not pairs:
        return [FieldError(pointer, f"'{dialect}' needs a non-empty object of attribute: value")]
    errors: list[FieldError] = []
    for attribute, value in pairs.items():
        here = f"{pointer}/{_escape_pointer(attribute)}"
        if not _ATTRIBUTE_RE.match(attribute):
            errors.append(FieldError(here, "attribute names are non-empty dotted names"))
        elif not isinstance(value, str):
            errors.append(FieldError(here, f"'{dialect}' values are strings"))
        elif dialect != "exact" and not value:
            errors.append(FieldError(here, f"'{dialect}' values are non-empty strings"))
    return errors


def _escape_pointer(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


# --------------------------------------------------------------------------- evaluation

_TOP_LEVEL_ATTRIBUTES: Final = (
    "type",
    "source",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "specversion",
    "correlation_id",
    "causation_id",
)


def attribute_view(event: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes a filter sees for a wire ``Event`` (``id`` = its ``external_id``)."""
    view: dict[str, Any] = {}
    view.update(json_object(event.get("extensions")) or {})
    for name in _TOP_LEVEL_ATTRIBUTES:
        if event.get(name) is not None:
            view[name] = event[name]
    if event.get("external_id") is not None:
        view["id"] = event["external_id"]
    view["data"] = event.get("data")
    view["metadata"] = event.get("metadata") or {}
    return view


def evaluate(expression: Mapping[str, Any] | None, event: Mapping[str, Any]) -> FilterResult:
    """Evaluate a validated filter against a wire ``Event``; no filter matches everything."""
    if expression is None:
        return FilterResult(True, ())
    trace: list[TraceEntry] = []
    matched = _evaluate(expression, attribute_view(event), "", trace)
    return FilterResult(matched, tuple(trace))


def _evaluate(expression: Mapping[str, Any], view: Mapping[str, Any], pointer: str, trace: list[TraceEntry]) -> bool:
    ((dialect, operand),) = expression.items()
    here = f"{pointer}/{dialect}"
    if dialect in LEAF_DIALECTS:
        verdict = True
        for attribute, expected in operand.items():
            actual = _as_text(resolve_attribute(view, attribute))
            clause = _leaf_matches(dialect, expected, actual)
            trace.append(TraceEntry(here, dialect, clause, attribute, expected, actual))
            verdict = verdict and clause
        return verdict
    position = len(trace)
    if dialect == "not":
        verdict = not _evaluate(operand, view, here, trace)
    else:
        results = [_evaluate(nested, view, f"{here}/{i}", trace) for i, nested in enumerate(operand)]
        verdict = all(results) if dialect == "all" else any(results)
    trace.insert(position, TraceEntry(here, dialect, verdict))
    return verdict


def _as_text(value: Any) -> str | None:
    """Strings as they are, numbers and booleans as JSON text; anything else does not compare."""
    if value is _MISSING or value is None or json_object(value) is not None or json_array(value) is not None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _leaf_matches(dialect: str, expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if dialect == "exact":
        return actual == expected
    return actual.startswith(expected) if dialect == "prefix" else actual.endswith(expected)


def resolve_attribute(view: Mapping[str, Any], attribute: str) -> Any:
    """The value ``attribute`` names in an attribute view, or the private missing marker."""
    head, _, rest = attribute.partition(".")
    if head in ("data", "metadata") and rest:
        return _walk(view.get(head, _MISSING), rest.split("."))
    if head in ("data", "metadata"):
        return _MISSING
    return view.get(attribute, _MISSING)


def _walk(node: Any, segments: list[str]) -> Any:
    for segment in segments:
        members, items = json_object(node), json_array(node)
        if members is not None:
            node = members.get(segment, _MISSING)
        elif items is not None and segment.isdigit() and int(segment) < len(items):
            node = items[int(segment)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def subscription_matches(
    event_types: Sequence[str] | None, expression: Mapping[str, Any] | None, event: Mapping[str, Any]
) -> FilterResult:
    """Event-type globs first (one trace entry, path ""), then the filter expression."""
    event_type = str(event.get("type", ""))
    if event_types:
        type_ok = matches_any(event_type, event_types)
        type_entry = TraceEntry("", "event_types", type_ok, "type", ", ".join(event_types), event_type)
        if not type_ok:
            return FilterResult(False, (type_entry,))
        result = evaluate(expression, event)
        return FilterResult(result.matched, (type_entry, *result.trace))
    return evaluate(expression, event)
