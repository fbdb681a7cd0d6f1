"""What the checker reports: one reason a writer's payload may be rejected by the reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Incompatibility:
    """One reason a payload accepted by the writer schema may be rejected by the reader schema.

    ``path`` is a JSON pointer into the schema being checked (keywords and property names), ``kind`` a
    stable slug, ``detail`` a human sentence.
    """

    path: str
    kind: str
    detail: str
    against_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "detail": self.detail,
            "against_version": self.against_version,
        }


def pointer(path: str, *tokens: str | int) -> str:
    """``path`` extended by the escaped ``tokens`` (RFC 6901)."""
    for token in tokens:
        path += "/" + str(token).replace("~", "~0").replace("/", "~1")
    return path
