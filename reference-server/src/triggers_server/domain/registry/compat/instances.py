"""Writers whose payloads are listed (``const``/``enum``): each listed value is validated against the reader.

When a writer conjunct lists its values, the writer can only produce (some of) those values, so the reader
accepts every writer payload exactly when it accepts each of them; that is decided by validation, not by
rules (``{"const": {"key": "v"}}`` is read by ``{"properties": {"key": {"const": "v"}}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import UnknownType
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable

from triggers_server.domain.registry.compat.json_types import enum_values
from triggers_server.domain.registry.compat.nodes import Node, keywords
from triggers_server.domain.registry.ecma import ecma_validator

_VALIDATOR = ecma_validator(Draft202012Validator)
_BASE = _VALIDATOR(True, format_checker=_VALIDATOR.FORMAT_CHECKER)
MAX_LISTED = 100  # longer lists are judged by the rules


def listed_values(writer: Sequence[Node]) -> list[Any] | None:
    """The shortest value list among the writer's conjuncts (None = no conjunct lists its values)."""
    lists = [values for node in writer if (values := enum_values(keywords(node))) is not None]
    return min(lists, key=len) if lists else None


def accepts_all(values: list[Any], reader: Node) -> bool:
    """Every value is valid under ``reader`` (False when that cannot be decided)."""
    if len(values) > MAX_LISTED:
        return False
    # the subschema with the resolver of its document, as the validator itself descends into subschemas
    evolve: Callable[..., Validator] = _BASE.evolve  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    validator = evolve(schema=reader.schema, _resolver=reader.resolver)
    try:
        return all(validator.is_valid(value) for value in values)
    except (RecursionError, Unresolvable, UnknownType, re.error):
        return False
