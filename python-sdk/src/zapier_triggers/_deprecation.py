"""Old public names kept for one minor version after a rename, each warning when it is used.

The SDK names its twins by one rule, the client's: unprefixed is async, ``Sync`` marks the blocking
twin (``TriggersClient`` / ``SyncTriggersClient``). Names from before that rule resolve through a
module ``__getattr__`` built here, so ``from zapier_triggers.resources.events import AsyncEvents``
still works but raises a :class:`DeprecationWarning` pointing at the new name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

__all__ = ["REMOVED_IN", "deprecated_aliases", "warn_renamed"]

# The release that drops the aliases: the next minor version after the rename (0.1.x keeps them).
REMOVED_IN = "0.2.0"


def warn_renamed(module: str, old: str, new: str) -> None:
    """Warn the caller's caller that ``module.old`` is now ``new``."""
    warnings.warn(
        f"{module}.{old} is deprecated and will be removed in {REMOVED_IN}; use {new} "
        "(unprefixed names are async, Sync-prefixed ones blocking).",
        DeprecationWarning,
        stacklevel=3,
    )


def deprecated_aliases(
    module: str, namespace: Mapping[str, object], renames: Mapping[str, str]
) -> Callable[[str], object]:
    """A module ``__getattr__`` resolving each old name in ``renames`` to its new name in ``namespace``."""

    def __getattr__(name: str) -> object:
        new = renames.get(name)
        if new is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warn_renamed(module, name, new)
        return namespace[new]

    return __getattr__
