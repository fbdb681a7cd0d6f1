"""Human time: "2m ago" for tables, and `--since 10m` / ISO-8601 parsing for filters."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_since", "relative", "utc_now"]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def relative(moment: datetime, now: datetime) -> str:
    """`just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`; `in 5m` for the future."""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 1:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            amount = f"{int(seconds // size)}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    raise AssertionError("unreachable: seconds >= 1")


def parse_since(text: str, now: datetime) -> datetime:
    """A duration back from now (`30s`, `10m`, `2h`, `7d`, `1w`) or an ISO-8601 timestamp (UTC if naive)."""
    match = _DURATION.match(text)
    if match:
        return now - timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration like 10m/2h/7d nor an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
