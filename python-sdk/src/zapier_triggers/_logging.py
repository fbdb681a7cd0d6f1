"""Debug logging switched on by ``TRIGGERS_LOG=debug``, with credentials redacted.

Headers and body fields named like ``*secret*``, ``*key*`` or ``*token*`` (and ``Authorization``) are
replaced by ``[REDACTED]``; ``Idempotency-Key`` stays visible because it is what correlates retries.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import cast

from ._constants import ENV_LOG, HEADER_IDEMPOTENCY_KEY

logger = logging.getLogger("zapier_triggers")

REDACTED = "[REDACTED]"
_SENSITIVE = re.compile(r"secret|key|token|authorization|password|cookie", re.IGNORECASE)
_ALWAYS_VISIBLE = {HEADER_IDEMPOTENCY_KEY.lower()}


def setup_logging() -> None:
    """Attach a stderr handler at DEBUG when the environment asks for it (idempotent)."""
    if os.environ.get(ENV_LOG, "").strip().lower() != "debug":
        return
    if any(getattr(h, "_zapier_triggers", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._zapier_triggers = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def is_sensitive(name: str) -> bool:
    """True for header/field names whose values must never reach a log."""
    return name.lower() not in _ALWAYS_VISIBLE and bool(_SENSITIVE.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if is_sensitive(k) else v) for k, v in headers.items()}


def redact(value: object) -> object:
    """Recursively redact sensitive keys of a JSON-like value before logging it."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {
            k: (REDACTED if isinstance(k, str) and is_sensitive(k) else redact(v)) for k, v in mapping.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in cast("Sequence[object]", value)]
    return value
