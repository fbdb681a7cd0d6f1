"""Numeric keywords: bounds (inclusive, exclusive; draft-04 boolean exclusives arrive translated) and ``multipleOf``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Node, keywords


def _as_number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class _Bound:
    value: Fraction
    exclusive: bool


def _bound(schema: dict[str, Any], inclusive_key: str, exclusive_key: str, lower: bool) -> _Bound | None:
    """The tightest of `minimum`/`exclusiveMinimum` (or the maximum pair)."""
    bounds: list[_Bound] = []
    inclusive = _as_number(schema.get(inclusive_key))
    if inclusive is not None:
        bounds.append(_Bound(inclusive, False))
    exclusive = _as_number(schema.get(exclusive_key))
    if exclusive is not None:
        bounds.append(_Bound(exclusive, True))
    if lower:
        return max(bounds, key=lambda b: (b.value, b.exclusive), default=None)
    return min(bounds, key=lambda b: (b.value, not b.exclusive), default=None)


def _lower_bound(schema: dict[str, Any]) -> _Bound | None:
    return _bound(schema, "minimum", "exclusiveMinimum", lower=True)


def _upper_bound(schema: dict[str, Any]) -> _Bound | None:
    return _bound(schema, "maximum", "exclusiveMaximum", lower=False)


def _describe(bound: _Bound, lower: bool) -> str:
    op = (">" if bound.exclusive else ">=") if lower else ("<" if bound.exclusive else "<=")
    return f"{op} {bound.value}"


def check_numbers(
    writer: list[Node], reader: dict[str, Any], writer_types: frozenset[str] | None, path: str
) -> list[Incompatibility]:
    """The reader's bounds and ``multipleOf`` must be implied by the writer's."""
    problems: list[Incompatibility] = []
    reader_low = _lower_bound(reader)
    if reader_low is not None:
        writer_low = max(
            [b for b in (_lower_bound(keywords(w)) for w in writer) if b is not None],
            key=lambda b: (b.value, b.exclusive),
            default=None,
        )
        if (
            writer_low is None
            or writer_low.value < reader_low.value
            or (writer_low.value == reader_low.value and reader_low.exclusive and not writer_low.exclusive)
        ):
            was = "no minimum" if writer_low is None else _describe(writer_low, lower=True)
            problems.append(
                Incompatibility(
                    pointer(path, "minimum"),
                    "minimum_raised",
                    f"values must now be {_describe(reader_low, lower=True)} (writer allowed {was})",
                )
            )
    reader_high = _upper_bound(reader)
    if reader_high is not None:
        writer_high = min(
            [b for b in (_upper_bound(keywords(w)) for w in writer) if b is not None],
            key=lambda b: (b.value, not b.exclusive),
            default=None,
        )
        if (
            writer_high is None
            or writer_high.value > reader_high.value
            or (writer_high.value == reader_high.value and reader_high.exclusive and not writer_high.exclusive)
        ):
            was = "no maximum" if writer_high is None else _describe(writer_high, lower=False)
            problems.append(
                Incompatibility(
                    pointer(path, "maximum"),
                    "maximum_lowered",
                    f"values must now be {_describe(reader_high, lower=False)} (writer allowed {was})",
                )
            )
    divisor = _as_number(reader.get("multipleOf"))
    if divisor is not None and divisor > 0:
        writer_multiples = [m for w in writer if (m := _as_number(keywords(w).get("multipleOf"))) is not None]
        integers_only = writer_types is not None and writer_types <= {"integer"}
        implied = any((m / divisor).denominator == 1 for m in writer_multiples) or (
            integers_only and divisor.denominator == 1 and divisor == 1
        )
        if not implied:
            problems.append(
                Incompatibility(
                    pointer(path, "multipleOf"),
                    "multiple_of_changed",
                    f"values must now be a multiple of {reader['multipleOf']}",
                )
            )
    return problems
