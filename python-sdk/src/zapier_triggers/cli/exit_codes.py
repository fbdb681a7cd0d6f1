"""The `triggers` exit codes, one per kind of failure so scripts can branch without parsing stderr."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """Documented in docs/cli.md ("Exit codes"); never renumber."""

    OK = 0
    API_ERROR = 1
    """The API answered with an error (problem+json): bad input, not found, auth, rate limit, 5xx."""
    USAGE = 2
    """Bad flags or arguments, unreadable input files, invalid JSON, missing API key or profile."""
    CONNECTION = 3
    """No answer from the API: connection refused, DNS, TLS, timeout."""
    INCOMPLETE = 4
    """The command ran but did not fully succeed: rejected batch items, an incompatible schema."""
    INTERRUPTED = 130
    """Ctrl-C during a one-shot command (stream and forward stop cleanly with 0 instead)."""
