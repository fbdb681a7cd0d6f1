"""The seven Confluent compatibility modes and how they apply to a subject's version history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from triggers_server.domain.registry.compat.checker import find_incompatibilities
from triggers_server.domain.registry.compat.findings import Incompatibility
from triggers_server.domain.registry.dialect import Dialect


class CompatibilityMode(StrEnum):
    """The seven Confluent Schema Registry compatibility modes."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def checks_backward(self) -> bool:
        return self in _BACKWARD_MODES

    @property
    def checks_forward(self) -> bool:
        return self in _FORWARD_MODES

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


_BACKWARD_MODES = frozenset(
    {
        CompatibilityMode.BACKWARD,
        CompatibilityMode.BACKWARD_TRANSITIVE,
        CompatibilityMode.FULL,
        CompatibilityMode.FULL_TRANSITIVE,
    }
)
_FORWARD_MODES = frozenset(
    {
        CompatibilityMode.FORWARD,
        CompatibilityMode.FORWARD_TRANSITIVE,
        CompatibilityMode.FULL,
        CompatibilityMode.FULL_TRANSITIVE,
    }
)
DEFAULT_MODE = CompatibilityMode.BACKWARD


@dataclass(frozen=True)
class PreviousVersion:
    version: int
    schema: Any
    dialect: Dialect | None = None  # None: every keyword the schema uses is honoured


def check_compatibility(
    candidate: Any,
    previous: Sequence[PreviousVersion],
    mode: CompatibilityMode,
    candidate_dialect: Dialect | None = None,
) -> list[Incompatibility]:
    """Incompatibilities of ``candidate`` (read in ``candidate_dialect``) against ``previous`` (oldest
    first, each read in its own dialect) under ``mode``.

    Non-transitive modes compare with the latest version only; each finding's detail names the
    direction and the version it was found against.
    """
    if mode is CompatibilityMode.NONE or not previous:
        return []
    targets = previous if mode.transitive else previous[-1:]
    problems: list[Incompatibility] = []
    for target in reversed(targets):
        if mode.checks_backward:
            backward = find_incompatibilities(
                target.schema, candidate, writer_dialect=target.dialect, reader_dialect=candidate_dialect
            )
            for found in backward:
                problems.append(_label(found, "backward", target.version))
        if mode.checks_forward:
            forward = find_incompatibilities(
                candidate, target.schema, writer_dialect=candidate_dialect, reader_dialect=target.dialect
            )
            for found in forward:
                problems.append(_label(found, "forward", target.version))
    return problems


def _label(found: Incompatibility, direction: str, version: int) -> Incompatibility:
    detail = f"{direction} check against version {version}: {found.detail}"
    return Incompatibility(found.path, found.kind, detail, version)
