"""Inbox receipts, for every backend: `rcpt_<event sequence>_<random>`. The sequence finds the entry; the random
part, stored with the lease, proves the caller holds the current lease."""

from __future__ import annotations

import secrets


def new_receipt(event_sequence: int) -> str:
    return f"rcpt_{event_sequence}_{secrets.token_urlsafe(12)}"


def receipt_sequence(receipt: str) -> int | None:
    """The event sequence a receipt names, or None when it is not one of ours."""
    parts = receipt.split("_")
    if len(parts) < 3 or parts[0] != "rcpt" or not parts[1].isdigit():
        return None
    return int(parts[1])
