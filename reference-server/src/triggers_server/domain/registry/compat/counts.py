"""Integer limits on sizes: ``min/maxLength``, ``min/maxItems``, ``min/maxProperties``, ``min/maxContains``."""

from __future__ import annotations

from typing import Any

from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Node, keywords


def check_counts(
    writer: list[Node], reader: dict[str, Any], low: str, high: str, kind: str, path: str
) -> list[Incompatibility]:
    """The reader's ``low``/``high`` limits must be implied by the writer's tightest ones."""
    problems: list[Incompatibility] = []
    reader_low = reader.get(low)
    if isinstance(reader_low, int) and not isinstance(reader_low, bool):
        writer_low = max((v for w in writer if isinstance(v := keywords(w).get(low), int)), default=0)
        if writer_low < reader_low:
            problems.append(
                Incompatibility(pointer(path, low), kind, f"{low} raised to {reader_low} (writer allowed {writer_low})")
            )
    reader_high = reader.get(high)
    if isinstance(reader_high, int) and not isinstance(reader_high, bool):
        writer_high = min((v for w in writer if isinstance(v := keywords(w).get(high), int)), default=None)
        if writer_high is None or writer_high > reader_high:
            allowed = "no limit" if writer_high is None else str(writer_high)
            problems.append(
                Incompatibility(
                    pointer(path, high), kind, f"{high} lowered to {reader_high} (writer allowed {allowed})"
                )
            )
    return problems
