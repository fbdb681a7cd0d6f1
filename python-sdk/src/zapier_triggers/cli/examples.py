"""A valid example payload built from a registered JSON Schema (draft 2020-12), for `triggers trigger`.

The schema's own ``examples``/``default``/``const``/``enum`` win; otherwise a value is built from the
type and its constraints: ``required`` and ``properties``, ``minLength``/``maxLength``, ``pattern``
(a string matching the regular expression), ``format`` (date-time, email, uri, uuid …),
``minimum``/``maximum`` (exclusive too) and ``multipleOf``, ``minItems``/``maxItems``/``uniqueItems``,
``prefixItems``/``contains``, local ``$ref``, ``allOf`` (merged) and the first ``anyOf``/``oneOf``
branch. What cannot be satisfied (an unsupported pattern on a required field, a contradiction)
raises :class:`ExampleError` naming the JSON pointer; an optional property that cannot be built is
left out. The server validates the event at ingestion, so a wrong guess is a 422, never bad data.
"""

from __future__ import annotations

import importlib
import re
import uuid
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, cast

__all__ = ["ExampleError", "example_for"]

_MAX_DEPTH = 12
_WORD = "example"


class ExampleError(Exception):
    """No valid example can be built; ``pointer`` is where in the schema."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer


def example_for(schema: object, *, now: datetime) -> Any:
    """A value valid against ``schema`` (whose local ``$ref``s resolve against itself)."""
    return _Builder(schema, now).build(schema, "", 0, 0)


class _Builder:
    def __init__(self, root: object, now: datetime) -> None:
        self.root = root
        self.now = now

    # ---- dispatch ---------------------------------------------------------------------------
    def build(self, schema: object, pointer: str, variant: int, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ExampleError(pointer, "the schema nests (or recurses) too deeply for an example")
        if schema is True or schema == {}:
            return _WORD if variant == 0 else f"{_WORD}-{variant}"
        if schema is False:
            raise ExampleError(pointer, "the schema `false` accepts no value")
        if not isinstance(schema, Mapping):
            raise ExampleError(pointer, "not a JSON Schema object")
        node = self._flatten(cast("Mapping[str, Any]", schema), pointer, depth)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            choices = list(node["enum"])
            if not choices:
                raise ExampleError(pointer, "an empty enum accepts no value")
            return choices[variant % len(choices)]
        examples = node.get("examples")
        if isinstance(examples, list) and examples and variant < len(cast("list[object]", examples)):
            return cast("list[object]", examples)[variant]
        if "default" in node and variant == 0:
            return node["default"]
        kind = _type_of(node)
        if kind == "object":
            return self._object(node, pointer, depth)
        if kind == "array":
            return self._array(node, pointer, depth)
        if kind == "string":
            return self._string(node, pointer, variant)
        if kind == "integer":
            return self._number(node, pointer, variant, integer=True)
        if kind == "number":
            return self._number(node, pointer, variant, integer=False)
        if kind == "boolean":
            return variant % 2 == 0
        return None

    def _flatten(self, schema: Mapping[str, Any], pointer: str, depth: int) -> dict[str, Any]:
        """Resolve ``$ref``, merge ``allOf`` and take the first ``anyOf``/``oneOf`` branch into one node."""
        node: dict[str, Any] = {}
        if "$ref" in schema:
            node = _merge(
                node, self._flatten(self._resolve(str(schema["$ref"]), pointer), pointer, depth + 1)
            )
        own = {k: v for k, v in schema.items() if k not in ("$ref", "allOf", "anyOf", "oneOf")}
        node = _merge(node, own)
        for part in schema.get("allOf", []):
            if isinstance(part, Mapping):
                node = _merge(node, self._flatten(cast("Mapping[str, Any]", part), pointer, depth + 1))
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and branches:
                first = cast("list[object]", branches)[0]
                if isinstance(first, Mapping):
                    node = _merge(node, self._flatten(cast("Mapping[str, Any]", first), pointer, depth + 1))
        return node

    def _resolve(self, ref: str, pointer: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            raise ExampleError(pointer, f"only local references can be followed, not {ref!r}")
        target: Any = self.root
        for token in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and key in target:
                target = cast("Mapping[str, Any]", target)[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(cast("list[object]", target)):
                target = cast("list[object]", target)[int(key)]
            else:
                raise ExampleError(pointer, f"the reference {ref!r} does not resolve")
        if not isinstance(target, Mapping):
            raise ExampleError(pointer, f"the reference {ref!r} is not a schema object")
        return cast("Mapping[str, Any]", target)

    # ---- kinds ------------------------------------------------------------------------------
    def _object(self, node: Mapping[str, Any], pointer: str, depth: int) -> dict[str, Any]:
        properties = cast("Mapping[str, Any]", node.get("properties") or {})
        listed: list[object] = list(node.get("required") or [])
        required = [str(name) for name in listed]
        result: dict[str, Any] = {}
        for name in [*required, *(name for name in properties if name not in required)]:
            where = f"{pointer}/properties/{_escape(name)}"
            try:
                result[name] = self.build(properties.get(name, True), where, 0, depth + 1)
            except ExampleError:
                if name in required:
                    raise
        minimum = int(node.get("minProperties") or 0)
        extra = node.get("additionalProperties", True)
        index = 1
        while len(result) < minimum:
            if extra is False:
                raise ExampleError(pointer, "minProperties needs more properties than the schema allows")
            result[f"key{index}"] = self.build(extra, f"{pointer}/additionalProperties", 0, depth + 1)
            index += 1
        return result

    def _array(self, node: Mapping[str, Any], pointer: str, depth: int) -> list[Any]:
        prefix = cast("list[object]", node.get("prefixItems") or [])
        items: Any = node.get("items", True)
        low = int(node.get("minItems") or 0)
        high = node.get("maxItems")
        count = max(low, len(prefix), 0 if high == 0 else 1)
        if high is not None:
            count = min(count, int(high))
        if count < low:
            raise ExampleError(pointer, "minItems is larger than maxItems")
        result: list[Any] = []
        if "contains" in node and count:
            result.append(self.build(node["contains"], f"{pointer}/contains", 0, depth + 1))
        for index in range(len(result), count):
            if index < len(prefix):
                result.append(self.build(prefix[index], f"{pointer}/prefixItems/{index}", 0, depth + 1))
            elif items is False:
                break
            else:
                variant = index if node.get("uniqueItems") else 0
                result.append(self.build(items, f"{pointer}/items", variant, depth + 1))
        return result

    def _string(self, node: Mapping[str, Any], pointer: str, variant: int) -> str:
        low = int(node.get("minLength") or 0)
        high = node.get("maxLength")
        pattern = node.get("pattern")
        fmt = node.get("format")
        if isinstance(pattern, str):
            text = _matching(pattern, low, None if high is None else int(high), variant)
            if text is None:
                raise ExampleError(pointer, f"cannot build a string matching {pattern!r}; add `examples`")
            return text
        if isinstance(fmt, str) and fmt in _FORMATS:
            text = _FORMATS[fmt](self.now, variant)
        else:
            text = _WORD if variant == 0 else f"{_WORD}-{variant}"
        if len(text) < low:
            text += "x" * (low - len(text))
        if high is not None and len(text) > int(high):
            if isinstance(fmt, str) and fmt in _FORMATS:
                raise ExampleError(pointer, f"a {fmt} does not fit in maxLength {high}")
            text = text[: int(high)] if variant == 0 or int(high) == 0 else (text[-int(high) :])
        return text

    def _number(self, node: Mapping[str, Any], pointer: str, variant: int, *, integer: bool) -> int | float:
        low, low_open = _bound(node, "minimum", "exclusiveMinimum", max)
        high, high_open = _bound(node, "maximum", "exclusiveMaximum", min)

        def fits(value: Decimal) -> bool:
            above = low is None or value > low or (not low_open and value == low)
            below = high is None or value < high or (not high_open and value == high)
            return above and below

        step = Decimal(str(node["multipleOf"])) if "multipleOf" in node else (Decimal(1) if integer else None)
        if step is not None:
            if low is not None:
                k = (low / step).to_integral_value(rounding=ROUND_CEILING)
                if low_open and k * step <= low:
                    k += 1
            elif high is not None:
                k = (min(Decimal(1), high) / step).to_integral_value(rounding=ROUND_FLOOR)
                if high_open and k * step >= high:
                    k -= 1
            else:
                k = (Decimal(1) / step).to_integral_value(rounding=ROUND_CEILING)
            candidate = (k + variant) * step
        elif low is not None and high is not None:
            candidate = (low + high) / 2
        elif low is not None:
            candidate = low + variant + (1 if low_open else 0)
        elif high is not None:
            candidate = high - variant - (1 if high_open else 0)
        else:
            candidate = Decimal(1 + variant)
        integral = candidate == candidate.to_integral_value()
        if not fits(candidate) or (integer and not integral):
            kind = "integer" if integer else "number"
            raise ExampleError(pointer, f"no {kind} satisfies the minimum, maximum and multipleOf together")
        return int(candidate) if integral else float(candidate)


# ---- helpers --------------------------------------------------------------------------------
def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties" and isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = {**merged[key], **cast("Mapping[str, Any]", value)}
        elif key == "required" and isinstance(merged.get(key), list) and isinstance(value, list):
            merged[key] = [
                *merged[key],
                *(name for name in cast("list[object]", value) if name not in merged[key]),
            ]
        else:
            merged[key] = value
    return merged


def _type_of(node: Mapping[str, Any]) -> str | None:
    declared = node.get("type")
    if isinstance(declared, list):
        names = [str(name) for name in cast("list[object]", declared)]
        chosen = next((name for name in names if name != "null"), names[0] if names else None)
        return chosen
    if isinstance(declared, str):
        return declared
    if any(key in node for key in ("properties", "required", "minProperties", "additionalProperties")):
        return "object"
    if any(key in node for key in ("items", "prefixItems", "minItems", "contains")):
        return "array"
    if any(key in node for key in ("minLength", "maxLength", "pattern", "format")):
        return "string"
    if any(
        key in node for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
    ):
        return "number"
    return None


def _bound(node: Mapping[str, Any], inclusive: str, exclusive: str, pick: Any) -> tuple[Decimal | None, bool]:
    """The tighter of an inclusive and an exclusive bound, and whether it is exclusive."""
    found: list[tuple[Decimal, bool]] = []
    if isinstance(node.get(inclusive), (int, float)):
        found.append((Decimal(str(node[inclusive])), False))
    if isinstance(node.get(exclusive), (int, float)) and not isinstance(node.get(exclusive), bool):
        found.append((Decimal(str(node[exclusive])), True))
    if not found:
        return None, False
    value = pick(entry[0] for entry in found)
    return value, any(bound == value and is_open for bound, is_open in found)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


_FORMATS: dict[str, Callable[[datetime, int], str]] = {
    "date-time": lambda now, _v: now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda now, _v: now.strftime("%Y-%m-%d"),
    "time": lambda now, _v: now.strftime("%H:%M:%SZ"),
    "duration": lambda _n, v: f"P{v + 1}D",
    "email": lambda _n, v: f"user{v or ''}@example.com",
    "idn-email": lambda _n, v: f"user{v or ''}@example.com",
    "hostname": lambda _n, v: f"host{v or ''}.example.com",
    "idn-hostname": lambda _n, v: f"host{v or ''}.example.com",
    "ipv4": lambda _n, v: f"192.0.2.{(v % 254) + 1}",
    "ipv6": lambda _n, v: f"2001:db8::{v + 1}",
    "uri": lambda _n, v: f"https://example.com/{v or ''}",
    "iri": lambda _n, v: f"https://example.com/{v or ''}",
    "uri-reference": lambda _n, v: f"/example/{v or ''}",
    "iri-reference": lambda _n, v: f"/example/{v or ''}",
    "uri-template": lambda _n, _v: "https://example.com/{id}",
    "uuid": lambda _n, _v: str(uuid.uuid4()),
    "json-pointer": lambda _n, _v: "/example",
    "relative-json-pointer": lambda _n, _v: "0",
    "regex": lambda _n, _v: "^example$",
}


def _matching(pattern: str, low: int, high: int | None, variant: int) -> str | None:
    """A string that ``pattern`` matches (JSON Schema patterns are unanchored) of a length in bounds.

    Open-ended repeats (``+``, ``*``, ``{n,}``) grow until ``minLength`` is met; an unanchored
    pattern takes a suffix for ``uniqueItems`` variants and padding instead. Every candidate is
    checked with ``re.search`` before it is returned.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            parser: Any = importlib.import_module("sre_parse")
            constants: Any = importlib.import_module("sre_constants")
            tree = parser.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, ValueError):
        return None
    for extra in range(low + 1):
        try:
            text = _Regex(constants, extra).render(tree)
        except ValueError:  # a construct the renderer does not build (backreferences …)
            return None
        for candidate in (f"{text}{variant}" if variant else text, text + "x" * max(0, low - len(text))):
            if (
                len(candidate) >= low
                and (high is None or len(candidate) <= high)
                and compiled.search(candidate)
            ):
                return candidate
    return None


class _Regex:
    """Renders one string from a parsed regular expression (literals, classes, repeats, groups)."""

    def __init__(self, constants: Any, extra: int) -> None:
        self.c = constants
        self.extra = extra  # more repetitions of open-ended repeats, to reach a minLength

    def render(self, tree: Any) -> str:
        return "".join(self._one(op, arg) for op, arg in tree)

    def _one(self, op: Any, arg: Any) -> str:
        c = self.c
        if op is c.LITERAL:
            return chr(arg)
        if op is c.NOT_LITERAL:
            return "a" if chr(arg) != "a" else "b"
        if op is c.ANY:
            return "a"
        if op is c.AT:
            return ""
        if op is c.IN:
            return self._class(arg)
        if op is c.CATEGORY:
            return self._category(arg)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            least, most, body = arg
            count = max(least, 1) if most else 0
            if most == c.MAXREPEAT:
                count += self.extra
            return self.render(body) * min(count, most) if most != c.MAXREPEAT else self.render(body) * count
        if op is c.SUBPATTERN:
            return self.render(arg[-1])
        if op is c.BRANCH:
            return self.render(arg[1][0])
        if op in (c.ASSERT, c.ASSERT_NOT):
            return ""
        raise ValueError(f"unsupported regular expression construct {op}")

    def _class(self, items: Any) -> str:
        c = self.c
        negate = False
        for op, arg in items:
            if op is c.NEGATE:
                negate = True
                continue
            if negate:
                continue
            if op is c.LITERAL:
                return chr(arg)
            if op is c.RANGE:
                return chr(arg[0])
            if op is c.CATEGORY:
                return self._category(arg)
        if negate:
            excluded = {chr(arg) for op, arg in items if op is c.LITERAL}
            return next(ch for ch in "aA0_" if ch not in excluded)
        raise ValueError("empty character class")

    def _category(self, category: Any) -> str:
        c = self.c
        return {
            c.CATEGORY_DIGIT: "0",
            c.CATEGORY_NOT_DIGIT: "a",
            c.CATEGORY_SPACE: " ",
            c.CATEGORY_NOT_SPACE: "a",
            c.CATEGORY_WORD: "a",
            c.CATEGORY_NOT_WORD: "-",
        }.get(category, "a")
